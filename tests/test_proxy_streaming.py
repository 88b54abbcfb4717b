"""Sentence streaming that knows before it releases (issue 24, point 3): the release windows of
:class:`SentenceRelease` under adversarial splits (chunk boundaries inside words, one character at
a time, one word per line, no punctuation, very long words), each window judged with the text
before it; then, through the proxy with the real fast judge, insult lists, replies written one
word per line and replies without punctuation never released before a verdict that holds them."""

from __future__ import annotations

import asyncio
import json
import random

import httpx
import pytest

from emoethics.proxy.streaming import LEAST_WINDOW, WINDOW_SPAN, SentenceRelease
from emoethics.textio import MAX_CHARS

from chat_upstream import chat_upstream
from proxy_world import POLITE, make_proxy
from service_world import running

OPENING = (
    "Paris is the capital of France. It lies on the river Seine in the north of the country. "
    "About two million people live in the city itself."
)
INSULTS = "You know what you are? Pathetic. An idiot. Worthless. A waste of everyone's time. Nobody wants you here."
CLOSING = "Anyway, the museums open at nine. The metro runs until late at night."
INSULT_WORDS = ("pathetic", "idiot", "worthless", "waste")
CALM = (
    "The museum opens at nine in the morning on weekdays. Tickets can be bought at the door or online. "
    "The north wing shows paintings from the last two centuries. A small cafe on the ground floor serves "
    "tea and cakes. Guided tours start every hour from the main hall.\nChildren under twelve enter free. "
)
NO_PUNCTUATION = (
    "the museum opens at nine in the morning on weekdays and tickets can be bought at the door or online "
    "and the north wing shows paintings from the last two centuries while a small cafe on the ground floor "
    "serves tea and cakes and guided tours start every hour from the main hall and children enter free "
)


# -- the release windows, with a scripted judge --------------------------------------------------


def whole(text: str) -> list[str]:
    return [text]


def by_char(text: str) -> list[str]:
    return list(text)


def by_random(text: str, seed: int = 7) -> list[str]:
    """``text`` in pieces of 1 to 9 characters, most boundaries inside words."""
    rng, out, i = random.Random(seed), [], 0
    while i < len(text):
        n = rng.randint(1, 9)
        out.append(text[i : i + n])
        i += n
    return out


def by_word(text: str) -> list[str]:
    """As the scripted upstream streams: one word (with its trailing space) a chunk."""
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


SPLITS = (whole, by_char, by_random, by_word)


def release(text: str, split=whole, passes=None, judge_chars: int = MAX_CHARS):
    """(the released windows, the texts judged before each, the release state) of ``text`` streamed
    in the pieces ``split`` makes; ``passes`` (default: everything) judges each text."""
    r = SentenceRelease(judge_chars=judge_chars)
    judged: list[str] = []

    async def judge(t: str) -> bool:
        judged.append(t)
        return passes(t) if passes else True

    async def stream() -> list[str]:
        out = []
        for piece in split(text):
            r.add(piece)
            out += await r.release(judge)
        return out

    return asyncio.run(stream()), judged, r


def test_release_windows_join_back_to_the_text_and_do_not_depend_on_how_the_chunks_are_cut():
    text = f"{OPENING} {CALM * 3}{NO_PUNCTUATION * 2}{'x' * 900} {CLOSING}"
    expected, _, r = release(text)
    assert len(expected) > 4 and "".join(expected) + r.pending == text
    for split in SPLITS[1:]:
        windows, _, r = release(text, split)
        assert windows == expected, split.__name__
        assert "".join(windows) + r.pending == text


def test_short_sentences_and_one_word_per_line_make_windows_of_at_least_the_least_size():
    for text in (f"{INSULTS} {INSULTS} {INSULTS} {CLOSING}", "\n".join(f"{OPENING} {INSULTS} {CLOSING}".split())):
        for split in SPLITS:
            windows, _, _ = release(text, split)
            assert windows and all(len(w) >= LEAST_WINDOW for w in windows), split.__name__
            assert all(w.endswith((". ", "? ", "\n")) for w in windows)


def test_a_reply_without_punctuation_is_cut_at_white_space_within_the_bounds():
    windows, _, r = release(NO_PUNCTUATION * 4, by_random)
    assert len(windows) >= 2 and r.pending
    released = ""
    for w in windows:
        least, most = SentenceRelease(released=released).bounds()
        assert least <= len(w) <= most and w.endswith(" ") and not w[-2].isspace()
        released += w


def test_a_word_longer_than_a_window_is_cut_at_the_most_a_window_holds():
    windows, _, _ = release("x" * 2000, by_random)
    assert windows[0] == "x" * (LEAST_WINDOW * WINDOW_SPAN)


def test_each_window_is_judged_with_all_the_text_released_before_it():
    text = f"{OPENING} {CALM * 4}{CLOSING}"
    windows, judged, _ = release(text, by_random)
    assert len(judged) == len(windows) >= 3
    for i, t in enumerate(judged):
        assert t == "".join(windows[: i + 1])


def test_the_text_judged_before_a_window_is_at_most_what_the_judge_reads_and_ends_with_the_window():
    windows, judged, _ = release(CALM * 40, by_word, judge_chars=2000)
    released = ""
    for w, t in zip(windows, judged, strict=True):
        assert len(t) <= 2000 and t.endswith(w) and (released + w).endswith(t)
        assert len(released) + len(w) <= 2000 or not t[0].isspace()  # a cut context starts at a word
        released += w


def test_a_window_harmless_alone_but_not_after_the_text_before_it_is_held_with_all_that_follows():
    # the scripted judge objects only to "you are" and "idiot" together; they fall in different windows
    def passes(t: str) -> bool:
        return not ("you are" in t.lower() and "idiot" in t.lower())

    text = f"{OPENING} You are, as we all know, someone who asks a lot of questions. {CALM}An idiot, really. {CALM}"
    windows, judged, r = release(text, by_random, passes)
    released = "".join(windows)
    held = judged[-1]  # the text judged when the stream was held: the released text and one window
    assert r.held and "idiot" not in released and "idiot" in held
    assert not passes(held) and passes(held[len(released) :])  # alone, the window would have passed
    assert released + r.pending == text and r.pending.endswith(CALM)  # nothing after it went out


def test_windows_grow_with_the_reply_so_a_long_reply_needs_few_judgements():
    text = CALM * 60  # about 18,000 characters
    windows, judged, r = release(text, by_word)
    assert len(text) > 2 * MAX_CHARS and len(judged) <= 20
    assert all(len(t) <= MAX_CHARS for t in judged)
    assert "".join(windows) + r.pending == text


# -- through the proxy, with the real fast judge ------------------------------------------------


@pytest.fixture()
def stream(tmp_path, monkeypatch):
    """stream(reply, context) -> (streamed content before the final chunk, the final chunk, the
    content deltas): a
    sentence-mode proxy (the real fast judge, the scripted judge model and rectifier) in front of a
    scripted upstream that streams ``reply`` one word a chunk."""
    monkeypatch.setenv("UPSTREAM_TEST_KEY", "k")
    stack: list = []

    def run(reply: str, context: str = "workplace") -> tuple[str, dict, list[str]]:
        folder = tmp_path / f"p{len(stack)}"
        folder.mkdir()
        up = chat_upstream(reply)
        stack.append(up)
        app, _, secret, _ = make_proxy(
            folder, up.__enter__().url, stream_policy="sentence", policy={"context": context}
        )
        server = running(app)
        stack.append(server)
        base = server.__enter__()
        body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hello"}]}
        with httpx.stream(
            "POST", f"{base}/v1/chat/completions", headers={"Authorization": f"Bearer {secret}"}, json=body, timeout=120
        ) as r:
            events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: {")]
        final = events[-1]
        deltas = [e["choices"][0]["delta"].get("content") or "" for e in events[:-1]]
        return "".join(deltas), final, [d for d in deltas if d]

    yield run
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)


def insulting(text: str) -> bool:
    return any(w in text.lower() for w in INSULT_WORDS)


@pytest.mark.parametrize("context", ["workplace", "personal"])
def test_an_insult_list_after_a_fine_opening_is_never_released(stream, context):
    text, final, _ = stream(f"{OPENING} {INSULTS} {CLOSING}", context)
    info = final["emoethics"]
    assert text == OPENING + " " and not insulting(text)
    assert info["verdict"] in ("rectify", "block") and final["choices"][0]["finish_reason"] == "content_filter"
    assert info["released_before_judgement"] == len(OPENING) + 1 and info["withheld"] > len(INSULTS)


def test_a_short_insult_list_releases_nothing_and_comes_back_rectified(stream):
    text, final, _ = stream("You know what you are? Pathetic. An idiot. Worthless.")
    assert text == POLITE and final["emoethics"]["action"] == "rectified"


def test_a_reply_written_one_word_per_line_is_held_and_judged_like_any_other(stream):
    reply = "\n".join(f"{OPENING} {INSULTS} {CLOSING}".split())
    text, final, _ = stream(reply)
    assert not insulting(text) and "\n" in text and len(text) >= LEAST_WINDOW
    assert final["emoethics"]["withheld"] > len(INSULTS) and final["choices"][0]["finish_reason"] == "content_filter"


def test_a_reply_without_punctuation_is_released_in_windows_bounded_by_characters(stream):
    text, final, windows = stream(NO_PUNCTUATION * 3)
    assert text == NO_PUNCTUATION * 3 and final["emoethics"]["verdict"] == "allow"
    assert len(windows) >= 3 and LEAST_WINDOW < len(windows[0]) <= LEAST_WINDOW * WINDOW_SPAN
    assert all(w.endswith(" ") for w in windows)


def test_insults_without_punctuation_are_held_like_any_other_window(stream):
    insults = "you know what you are you are pathetic an idiot worthless and nobody wants you here "
    text, final, _ = stream(insults + NO_PUNCTUATION * 2)
    assert text.strip() == POLITE and final["emoethics"]["action"] == "rectified"


def test_a_long_allowed_reply_reaches_a_sentence_stream_whole(stream):
    reply = (CALM * 12).strip()
    text, final, _ = stream(reply)
    assert text == reply and final["emoethics"]["verdict"] == "allow"
    assert final["choices"][0]["finish_reason"] == "stop" and final["emoethics"]["released_before_judgement"] > 0
