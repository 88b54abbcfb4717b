"""The texts of a reply that a client sees, and how they go back into the reply.

A chat completion message can carry text in more places than ``content``: a ``refusal``, the
reasoning of a reasoning model (``reasoning_content``, ``reasoning``), and the arguments of tool
calls (``tool_calls[].function.arguments``, the older ``function_call.arguments``). Every one of
them is judged. Arguments are JSON for a program, so they are never rewritten: an argument that
needs rectifying blocks the reply. :func:`deltas` turns a judged message back into the ``delta``
objects of a stream, and :func:`merge_delta` builds a message from a stream's deltas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Plain text fields of a message, in the order a stream sends them.
REASONING = ("reasoning_content", "reasoning")
TEXTS = (*REASONING, "content", "refusal")
#: More tool calls than this in one streamed message is a broken stream.
MAX_TOOL_CALLS = 128


@dataclass(frozen=True)
class Field:
    """One text of a message: where it is (``content``, ``tool_calls.0.function.arguments``)."""

    name: str
    text: str
    rewritable: bool = True


def texts_of(message: dict[str, Any]) -> list[Field]:
    """Every non-empty text of ``message`` that a client would see."""
    out = [Field(k, message[k]) for k in TEXTS if isinstance(message.get(k), str) and message[k].strip()]
    for i, call in enumerate(message.get("tool_calls") or []):
        args = ((call or {}).get("function") or {}).get("arguments")
        if isinstance(args, str) and args.strip():
            out.append(Field(f"tool_calls.{i}.function.arguments", args, rewritable=False))
    args = (message.get("function_call") or {}).get("arguments")
    if isinstance(args, str) and args.strip():
        out.append(Field("function_call.arguments", args, rewritable=False))
    return out


def put(message: dict[str, Any], name: str, text: str) -> None:
    """Set the text at ``name`` (as :func:`texts_of` names it) in ``message``."""
    if name in TEXTS:
        message[name] = text
        return
    node: Any = message
    *path, last = name.split(".")
    for step in path:
        node = node[int(step)] if isinstance(node, list) else node[step]
    node[last] = text


def problem(message: Any) -> str | None:
    """What makes ``message`` unusable as a completion message (a text field that is not text), or None."""
    if not isinstance(message, dict):
        return "a choice has no message object"
    for k in TEXTS:
        if message.get(k) is not None and not isinstance(message[k], str):
            return f"the message's {k} is not text"
    calls = message.get("tool_calls")
    if calls is not None and not isinstance(calls, list):
        return "the message's tool_calls is not a list"
    for call in [*(calls or []), *([message["function_call"]] if message.get("function_call") is not None else [])]:
        fn = call.get("function", call) if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("arguments", ""), str):
            return "a tool call of the message has arguments that are not text"
    return None


def deltas(message: dict[str, Any], pieces: Any, *, content: bool = True) -> list[dict[str, Any]]:
    """The ``delta`` objects that stream ``message``: reasoning, content (cut by ``pieces``),
    refusal, then tool calls. ``content=False`` leaves the content out."""
    out: list[dict[str, Any]] = [{k: message[k]} for k in REASONING if message.get(k)]
    if content:
        out += [{"content": p} for p in pieces(message.get("content") or "") if p]
    if message.get("refusal"):
        out.append({"refusal": message["refusal"]})
    calls = message.get("tool_calls") or []
    if calls:
        out.append({"tool_calls": [{**call, "index": i} for i, call in enumerate(calls)]})
    if message.get("function_call"):
        out.append({"function_call": message["function_call"]})
    return out


def merge_delta(message: dict[str, Any], delta: dict[str, Any]) -> None:
    """Add a stream's ``delta`` (other than its content) to ``message``, as the client would."""
    for k in (*REASONING, "refusal"):
        if isinstance(delta.get(k), str):
            message[k] = message.get(k, "") + delta[k]
    for part in delta.get("tool_calls") or []:
        if not isinstance(part, dict):
            continue
        calls = message.setdefault("tool_calls", [])
        i = part.get("index", len(calls))
        if not isinstance(i, int) or not 0 <= i < MAX_TOOL_CALLS:
            raise ValueError(f"a tool call index out of range ({i!r})")
        while len(calls) <= i:
            calls.append({"function": {"arguments": ""}})
        call = calls[i]
        for k in ("id", "type"):
            if part.get(k):
                call[k] = part[k]
        fn = part.get("function") or {}
        if fn.get("name"):
            call["function"]["name"] = fn["name"]
        if isinstance(fn.get("arguments"), str):
            call["function"]["arguments"] += fn["arguments"]
    fc = delta.get("function_call")
    if isinstance(fc, dict):
        held = message.setdefault("function_call", {"arguments": ""})
        if fc.get("name"):
            held["name"] = fc["name"]
        if isinstance(fc.get("arguments"), str):
            held["arguments"] += fc["arguments"]
