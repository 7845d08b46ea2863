"""One client for OpenAI-compatible chat-completions endpoints (vLLM, SGLang, LMDeploy, TGI, commercial APIs).

The endpoint policy, the teacher, the densifier and every model-backed tool talk to their models through it:

    from vista.chat import ChatClient, image_question

    client = ChatClient("http://localhost:8000/v1", "Qwen2.5-VL-7B-Instruct", key_env="VISTA_POLICY_API_KEY")
    text = client.complete(image_question(image, "Which bar is tallest?"), max_tokens=64)
    text = await client.acomplete(messages, stop=["</answer>"])  # the same request from async code

A request is ``POST {base_url}/chat/completions`` with ``model``, ``messages``, ``temperature``, ``max_tokens`` and,
when given, ``stop``. Images travel inline as PNG data URLs (`image_url`, one encoder for every caller); the reply is
``choices[0].message.content`` (a string, or content parts whose text is joined). Every failure (unreachable, the
credentials refused, an error status, a model the server does not serve, a reply in another shape) is one
`ChatEndpointError`, whose message names the endpoint.

API keys: an explicit ``api_key`` wins; otherwise the first variable of ``key_env`` that is set. The scheme is one
variable per endpoint, ``VISTA_<NAME>_API_KEY`` beside that endpoint's ``VISTA_<NAME>_URL`` (`api_key_env`):

===========================  =================================================================================
``VISTA_POLICY_API_KEY``     ``vista eval --policy openai:<base_url>`` (falls back to ``OPENAI_API_KEY``, which
                             it read before)
``VISTA_TEACHER_API_KEY``    the teacher expert (``--teacher_base_url``)
``VISTA_DENSIFY_API_KEY``    the densifier (``--densify_base_url``)
``VISTA_MATH_VLM_API_KEY``   ``math_vlm``; ``g_llava_solve`` and ``multimath_solve`` read ``VISTA_G_LLAVA_API_KEY``
                             / ``VISTA_MULTIMATH_API_KEY`` first, then this one, as their URLs fall back
``VISTA_CHARTMOE_API_KEY``   the served chart models (also ``VISTA_CHARTASSISTANT_API_KEY``,
                             ``VISTA_CHARTVLM_API_KEY``)
===========================  =================================================================================
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PIL import Image

from .errors import VistaError
from .images import image_to_base64

if TYPE_CHECKING:
    import httpx

TURN_STOP = ("</tool_call>", "</answer>")  # a policy's turn ends at its tool call or its answer: the environment speaks
_QUOTED = 300  # characters of an error reply quoted in a message


class ChatEndpointError(VistaError):
    """A chat-completions endpoint failed; the message names it and says what to fix.

    ``status`` is the HTTP status when the server answered; ``served`` lists the models the server serves when the
    failure is a model it does not serve (None otherwise), so that a caller can tell whose choice was wrong."""

    def __init__(self, message: str, *, endpoint: str, status: int | None = None,
                 served: list[str] | None = None):
        super().__init__(message)
        self.endpoint, self.status, self.served = endpoint, status, served


def api_key_env(name: str) -> str:
    """The key variable of the endpoint called ``name``: ``math_vlm`` -> ``VISTA_MATH_VLM_API_KEY``."""
    return f"VISTA_{name.upper()}_API_KEY"


def image_url(image: Image.Image) -> str:
    """``image`` as a PNG data URL, the way chat-completions requests carry images."""
    return "data:image/png;base64," + image_to_base64(image)


def image_part(image: Image.Image) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": image_url(image)}}


def image_question(image: Image.Image, text: str) -> list[dict[str, Any]]:
    """One user message holding an image, then a text: how the model-backed tools ask their models."""
    return [{"role": "user", "content": [image_part(image), {"type": "text", "text": text}]}]


def openai_messages(messages: Sequence[dict[str, Any]], images: Sequence[Image.Image]) -> list[dict[str, Any]]:
    """Chat messages with ``{"type": "image"}`` placeholders (`vista.trajectory_log.to_chat`) and their images in order,
    as chat-completions messages with the images inline."""
    pending = iter(images)
    return [{"role": message["role"], "content": [
        image_part(next(pending)) if part["type"] == "image" else {"type": "text", "text": part.get("text") or ""}
        for part in message["content"]]} for message in messages]


def close_cut_tags(text: str, stop: Sequence[str] = TURN_STOP) -> str:
    """A server cuts a stop string from the completion: put back each closing tag (``</tag>``) among ``stop`` whose
    block was left open."""
    for closing in stop:
        if closing.startswith("</") and closing.endswith(">"):
            tag = closing[2:-1]
            if text.count(f"<{tag}>") > text.count(closing):
                text += closing
    return text


class ChatClient:
    """An OpenAI-compatible chat-completions endpoint serving ``model`` at ``base_url`` (ending in ``/v1``).

    ``key_env`` names the variables the API key is read from when ``api_key`` is not given, in order (see the module
    docstring); ``what`` is how error messages call the endpoint ("teacher endpoint", "math VLM endpoint")."""

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None,
                 key_env: str | Sequence[str] = (), timeout_s: float = 120.0, what: str = "chat endpoint"):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.key_env = (key_env,) if isinstance(key_env, str) else tuple(key_env)
        self.api_key = api_key or next((os.environ[name] for name in self.key_env if os.environ.get(name)), None)
        self.timeout_s = timeout_s
        self.what = what
        # one connection pool per event loop: an httpx.AsyncClient must not be used from a loop it was not opened in
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = \
            weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def body(self, messages: list[dict[str, Any]], *, temperature: float = 0.0, max_tokens: int = 1024,
             stop: Sequence[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": temperature,
                                "max_tokens": max_tokens}
        if stop:
            body["stop"] = list(stop)
        return body

    def complete(self, messages: list[dict[str, Any]], *, temperature: float = 0.0, max_tokens: int = 1024,
                 stop: Sequence[str] | None = None) -> str:
        """The reply's text; raises `ChatEndpointError`."""
        import httpx

        body = self.body(messages, temperature=temperature, max_tokens=max_tokens, stop=stop)
        try:
            with httpx.Client(timeout=self.timeout_s, headers=self.headers) as client:
                response = client.post(f"{self.base_url}/chat/completions", json=body)
                listing = client.get(f"{self.base_url}/models") if response.status_code == 404 else None
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        return self._content(response, listing)

    async def acomplete(self, messages: list[dict[str, Any]], *, temperature: float = 0.0, max_tokens: int = 1024,
                        stop: Sequence[str] | None = None) -> str:
        """`complete` from async code, on a connection pool kept per event loop."""
        import httpx

        body = self.body(messages, temperature=temperature, max_tokens=max_tokens, stop=stop)
        client = self._async_client()
        try:
            response = await client.post(f"{self.base_url}/chat/completions", json=body)
            listing = await client.get(f"{self.base_url}/models") if response.status_code == 404 else None
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        return self._content(response, listing)

    async def aturn(self, messages: list[dict[str, Any]], *, temperature: float = 0.0, max_tokens: int = 1024) -> str:
        """A policy's next turn: generation stops after its first tool call or its answer (`TURN_STOP`), and the
        closing tag the server cut is put back."""
        text = await self.acomplete(messages, temperature=temperature, max_tokens=max_tokens, stop=TURN_STOP)
        return close_cut_tags(text, TURN_STOP)

    async def aclose(self) -> None:
        """Close the running event loop's connection pool (the next request opens another)."""
        with self._lock:
            client = self._async_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def _async_client(self) -> httpx.AsyncClient:
        import httpx

        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async_clients.get(loop)
            if client is None or client.is_closed:
                client = self._async_clients[loop] = httpx.AsyncClient(timeout=self.timeout_s, headers=self.headers)
        return client

    def _unreachable(self, exc: Exception) -> ChatEndpointError:
        return ChatEndpointError(
            f"{self.what} {self.base_url} is unreachable ({type(exc).__name__}: {exc}); check that an "
            "OpenAI-compatible server runs there (e.g. `vllm serve <model>`) and that the URL ends in /v1",
            endpoint=self.base_url)

    def _content(self, response: httpx.Response, listing: httpx.Response | None) -> str:
        status = response.status_code
        served = _served_models(listing) if listing is not None else []
        if served and self.model not in served:
            raise ChatEndpointError(f"model '{self.model}' is not served at {self.base_url}; served models: "
                                    f"{', '.join(served)}", endpoint=self.base_url, status=status, served=served)
        if status in (401, 403):
            where = f"set {self.key_env[0]}" if self.key_env else "pass its API key"
            raise ChatEndpointError(f"{self.what} {self.base_url} refused the credentials (HTTP {status}); {where}",
                                    endpoint=self.base_url, status=status)
        if status != 200:
            raise ChatEndpointError(f"{self.what} {self.base_url} answered HTTP {status}: {response.text[:_QUOTED]}",
                                    endpoint=self.base_url, status=status)
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise self._shape_error(response) from exc
        if content is None:
            return ""
        if isinstance(content, list):  # some servers answer with content parts
            content = "".join(part.get("text") or "" for part in content if isinstance(part, dict))
        if not isinstance(content, str):
            raise self._shape_error(response)
        return content

    def _shape_error(self, response: httpx.Response) -> ChatEndpointError:
        return ChatEndpointError(f"{self.what} {self.base_url} did not answer in the chat-completions shape "
                                 f"(choices[0].message.content as text): {response.text[:_QUOTED]}",
                                 endpoint=self.base_url, status=response.status_code)


def _served_models(response: httpx.Response) -> list[str]:
    try:
        return [entry["id"] for entry in response.json()["data"]]
    except (ValueError, KeyError, TypeError):
        return []
