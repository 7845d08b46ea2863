"""vista.chat against the fake chat-completions server of vista.testing (a real HTTP server on 127.0.0.1)."""

import asyncio
import base64
import io

import pytest
from PIL import Image
from vista.chat import ChatClient, ChatEndpointError, close_cut_tags, image_question, image_url, openai_messages
from vista.policies import EndpointPolicy

RED = Image.new("RGB", (6, 4), (200, 10, 10))


def echo(body: dict) -> str:
    """The text parts it was sent, and the size of each image, decoded from its data URL."""
    said = []
    for message in body["messages"]:
        parts = message["content"] if isinstance(message["content"], list) else [
            {"type": "text", "text": message["content"]}]
        for part in parts:
            if part["type"] == "text":
                said.append(part["text"])
            else:
                header, data = part["image_url"]["url"].split(",", 1)
                assert header == "data:image/png;base64"
                image = Image.open(io.BytesIO(base64.b64decode(data)))
                said.append(f"image {image.width}x{image.height} {image.getpixel((0, 0))}")
    return " | ".join(said)


def test_sync_and_async_send_the_same_request_and_read_the_reply(chat_server):
    server = chat_server(echo)
    client = ChatClient(server.url, "m", api_key="k")
    messages = image_question(RED, "what colour?")
    assert client.complete(messages, max_tokens=7) == "image 6x4 (200, 10, 10) | what colour?"
    assert asyncio.run(client.acomplete(messages, max_tokens=7)) == "image 6x4 (200, 10, 10) | what colour?"
    sync, async_ = server.requests
    assert sync.body == async_.body and sync.path == "/v1/chat/completions"
    assert sync.body["model"] == "m" and sync.body["max_tokens"] == 7 and sync.body["temperature"] == 0.0
    assert "stop" not in sync.body and sync.headers["authorization"] == "Bearer k"


def test_the_policy_sends_stop_strings_and_gets_cut_tags_back(chat_server):
    server = chat_server(lambda body: '<think>t</think><tool_call>{"name": "zoom", "arguments": {}}')
    policy = EndpointPolicy(server.url, "m", api_key="k", max_tokens=5)
    observation = {"messages": [{"role": "user", "content": [{"type": "image", "image": "a"},
                                                             {"type": "text", "text": "q"}]},
                                {"role": "tool", "content": [{"type": "text", "text": "<tool_response>r"}]}],
                   "images": {"a": RED}}
    turn = asyncio.run(policy(observation))
    assert turn.endswith("}</tool_call>")
    [request] = server.requests
    assert request.body["stop"] == ["</tool_call>", "</answer>"] and request.body["max_tokens"] == 5
    assert [m["role"] for m in request.body["messages"]] == ["user", "user"]  # the tool role has no tool_call_id here
    assert request.body["messages"][0]["content"][0]["image_url"]["url"] == image_url(RED)


def test_close_cut_tags_closes_only_open_blocks():
    assert close_cut_tags("<answer>3") == "<answer>3</answer>"
    assert close_cut_tags("<answer>3</answer>") == "<answer>3</answer>"
    assert close_cut_tags("<tool_call>{}") == "<tool_call>{}</tool_call>"
    assert close_cut_tags("<answer>3", stop=["STOP"]) == "<answer>3"


def test_openai_messages_inline_each_image_in_order():
    blue = Image.new("RGB", (2, 2), "blue")
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": None}, {"type": "image"}]}]
    [message] = openai_messages(messages, [RED, blue])
    assert [p.get("image_url", {}).get("url") for p in message["content"]] == [image_url(RED), None, image_url(blue)]
    assert message["content"][1] == {"type": "text", "text": ""}


def test_the_key_comes_from_the_first_variable_set(monkeypatch, chat_server):
    server = chat_server(echo, api_key="new")
    monkeypatch.delenv("VISTA_POLICY_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "old")
    policy = EndpointPolicy(server.url, "m")  # the older variable still serves
    assert policy.client.api_key == "old"
    monkeypatch.setenv("VISTA_POLICY_API_KEY", "new")
    assert EndpointPolicy(server.url, "m").client.api_key == "new"
    assert EndpointPolicy(server.url, "m", api_key="given").client.api_key == "given"
    client = ChatClient(server.url, "m", key_env=("VISTA_POLICY_API_KEY", "OPENAI_API_KEY"))
    assert client.complete([{"role": "user", "content": "hi"}]) == "hi"


def test_every_failure_is_one_error_that_names_the_endpoint(chat_server):
    server = chat_server(echo, served=["m"], api_key="k")
    refused = ChatClient(server.url, "m", api_key="wrong", key_env="VISTA_X_API_KEY", what="x endpoint")
    with pytest.raises(ChatEndpointError, match=r"x endpoint .*/v1 refused the credentials \(HTTP 401\); "
                                                r"set VISTA_X_API_KEY") as caught:
        refused.complete([])
    assert caught.value.status == 401 and caught.value.endpoint == server.url and caught.value.served is None

    unserved = ChatClient(server.url, "other", api_key="k")
    with pytest.raises(ChatEndpointError, match="model 'other' is not served at .*; served models: m") as caught:
        asyncio.run(unserved.acomplete([]))
    assert caught.value.served == ["m"] and caught.value.status == 404

    with pytest.raises(ChatEndpointError, match=r"chat endpoint http://127\.0\.0\.1:9/v1 is unreachable \(Connect"):
        ChatClient("http://127.0.0.1:9/v1/", "m", timeout_s=2).complete([])

    shapeless = chat_server(lambda body: {"result": "no choices"})
    with pytest.raises(ChatEndpointError, match=r"did not answer in the chat-completions shape .*no choices"):
        ChatClient(shapeless.url, "m").complete([])

    broken = chat_server(lambda body: 1 / 0)
    with pytest.raises(ChatEndpointError, match=r"answered HTTP 500: .*ZeroDivisionError"):
        ChatClient(broken.url, "m").complete([])


def test_content_parts_are_joined_and_null_content_is_empty(chat_server):
    def reply(body: dict) -> dict:
        content = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}] if body["max_tokens"] == 1 else None
        return {"choices": [{"message": {"role": "assistant", "content": content}}]}

    client = ChatClient(chat_server(reply).url, "m")
    assert client.complete([], max_tokens=1) == "ab"
    assert client.complete([], max_tokens=2) == ""


def test_one_connection_pool_per_event_loop(chat_server):
    client = ChatClient(chat_server(echo).url, "m")

    async def twice() -> tuple[object, object]:
        await client.acomplete([{"role": "user", "content": "a"}])
        first = client._async_client()
        await client.acomplete([{"role": "user", "content": "b"}])
        same = client._async_client()
        await client.aclose()
        return first, same

    first, same = asyncio.run(twice())
    assert first is same and first.is_closed
    other, _ = asyncio.run(twice())  # a new loop gets a pool of its own
    assert other is not first
