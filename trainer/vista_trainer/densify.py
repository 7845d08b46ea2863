"""Rationale densification: the paper's second expert pass, where a second model rewrites the short reasoning of the
expert trajectories into a fuller, step-by-step rationale before behaviour cloning.

Only the ``<think>`` text of each policy turn changes. The tool calls and the answer stay byte for byte, and so do
the tool responses, the images and the outcome (the trajectory was already kept for being correct). A rewrite is
accepted only when the turn it makes still parses into the same tagged segments with no format error, and it holds
no tag of its own; otherwise the original reasoning is kept and the turn counted as rejected. The rewriting model sits
behind an OpenAI-compatible ``/chat/completions`` endpoint like the teacher; the turns are sent concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from vista.chat import ChatClient, ChatEndpointError, api_key_env
from vista.protocol import parse_turn
from vista.trajectory import ContentPart, Message, Trajectory
from vista.trajectory_log import TrajectoryLog

log = logging.getLogger(__name__)

SYSTEM = ("You rewrite the terse reasoning of one step of a visual problem solver into a clear, complete rationale of "
          "two to four sentences. Keep every fact, number and conclusion of the original and add none: no new "
          "values, no answer the original does not reach. Say why the step is taken. Reply with the rationale only, "
          "as plain text without tags, quotes or lists.")
_TAGS = re.compile(r"</?\s*(think|tool_call|tool_response|answer)\b", re.IGNORECASE)


@dataclass
class DensifyReport:
    trajectories: int
    turns: int  # policy turns offered for rewriting
    rewritten: int  # rewrites accepted
    rejected: int  # rewrites refused (tags, a changed turn structure, empty, too long, or an endpoint error)


class Densifier:
    """Asks ``model`` behind ``base_url`` (`vista.chat`) for a fuller version of each short ``<think>``. The API key:
    ``api_key``, else ``VISTA_DENSIFY_API_KEY``."""

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, min_chars: int = 0,
                 max_chars: int = 800, max_tokens: int = 256, temperature: float = 0.0, concurrency: int = 8,
                 timeout_s: float = 120.0):
        self.client = ChatClient(base_url, model, api_key=api_key, key_env=api_key_env("densify"),
                                 timeout_s=timeout_s, what="densifier endpoint")
        self.min_chars, self.max_chars = min_chars, max_chars
        self.max_tokens, self.temperature = max_tokens, temperature
        self.concurrency = concurrency

    def wants(self, think: str | None) -> bool:
        """Turns whose reasoning is at least ``min_chars`` long are left as they are."""
        return think is not None and (not self.min_chars or len(think) < self.min_chars)

    def request(self, question: str, think: str, context: str, action: str) -> list[dict]:
        user = (f"Question: {question.strip()}\n"
                + (f"What the tools have returned so far: {context.strip()}\n" if context.strip() else "")
                + f"Terse reasoning: {think.strip()}\nWhat the step then does: {action.strip()}\n"
                "Rewrite the terse reasoning.")
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]

    async def rewrite(self, messages: list[dict]) -> str:
        return await self.client.acomplete(messages, temperature=self.temperature, max_tokens=self.max_tokens)


def accept(action: str, think: str, rewrite: str, max_chars: int) -> str | None:
    """The turn with its reasoning replaced by ``rewrite``, or None when the rewrite may not be used."""
    rewrite = rewrite.strip()
    if not rewrite or len(rewrite) > max_chars or _TAGS.search(rewrite):
        return None
    original = f"<think>{think}</think>"
    if original not in action:
        return None
    new_action = action.replace(original, f"<think>{rewrite}</think>", 1)
    before, after = parse_turn(action), parse_turn(new_action)
    if after.format_errors or (after.tool_calls, after.answer) != (before.tool_calls, before.answer):
        return None
    return new_action


def _text(message: Message) -> str:
    return "".join(part.text or "" for part in message.content if part.type == "text")


def densify(in_dir: str | Path, out_dir: str | Path, densifier: Densifier) -> DensifyReport:
    """Rewrite the reasoning of every trajectory in the log at ``in_dir`` into a new log at ``out_dir`` (written
    afresh; images carried over). Endpoint failures leave the turn as it was and are counted as rejected."""
    source = TrajectoryLog(in_dir)
    trajectories = list(source)
    jobs: list[tuple[int, int, str, str, list[dict]]] = []  # (trajectory, message, action, think, request)
    for t_index, trajectory in enumerate(trajectories):
        question = next((_text(m) for m in trajectory.messages if m.role == "user"), "")
        context: list[str] = []
        for m_index, message in enumerate(trajectory.messages):
            text = _text(message)
            if message.role == "tool" or (message.role == "user" and m_index > 1):
                context.append(text.replace("<tool_response>", "").replace("</tool_response>", "")[:400])
            if message.role != "assistant":
                continue
            turn = parse_turn(text)
            if not densifier.wants(turn.think):
                continue
            action = text.replace(f"<think>{turn.think}</think>", "", 1)
            jobs.append((t_index, m_index, text, turn.think,
                         densifier.request(question, turn.think, " | ".join(context[-2:]), action)))
    replies = asyncio.run(_ask_all(densifier, [job[4] for job in jobs]))
    if replies and all(isinstance(reply, Exception) for reply in replies):
        raise ChatEndpointError(f"the densifier endpoint {densifier.client.base_url} failed on every turn "
                                f"({replies[0]}); check the URL (it ends in /v1), the model name and the key, or leave "
                                "densify_base_url unset", endpoint=densifier.client.base_url)
    rewritten = rejected = 0
    for (t_index, m_index, action, think, _), reply in zip(jobs, replies):
        new_action = accept(action, think, reply, densifier.max_chars) if isinstance(reply, str) else None
        if new_action is None:
            rejected += 1
            if isinstance(reply, Exception):
                log.warning("densifier failed on a turn of %s: %s", trajectories[t_index].example_id, reply)
            continue
        rewritten += 1
        _replace_turn(trajectories[t_index], m_index, action, new_action)
    out_path = Path(out_dir) / "trajectories.jsonl"
    if out_path.exists():
        out_path.unlink()
    target = TrajectoryLog(out_dir)
    for trajectory in trajectories:
        refs = {ref for m in trajectory.messages for ref in m.image_refs}
        target.append(trajectory, {ref: source.images.get(ref) for ref in refs})
    return DensifyReport(len(trajectories), len(jobs), rewritten, rejected)


def _replace_turn(trajectory: Trajectory, m_index: int, action: str, new_action: str) -> None:
    trajectory.messages[m_index] = Message(role="assistant", content=[ContentPart.of_text(new_action)])
    for step in trajectory.steps:
        if step.action == action:
            step.action = new_action
            step.think = parse_turn(new_action).think
            break


async def _ask_all(densifier: Densifier, requests: list[list[dict]]) -> list[str | Exception]:
    limit = asyncio.Semaphore(densifier.concurrency)

    async def one(messages: list[dict]) -> str | Exception:
        async with limit:
            try:
                return await densifier.rewrite(messages)
            except Exception as exc:  # one failed turn keeps its original reasoning; the others go on
                return exc

    try:
        return await asyncio.gather(*(one(m) for m in requests))
    finally:
        await densifier.client.aclose()
