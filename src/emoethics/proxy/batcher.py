"""Fast judgements of concurrent requests, made together: the proxy's micro-batcher.

Most of a fast judgement is encoder work (the emotion sensor, the moral encoder that the moral
and conduct heads read), and an encoder embeds 16 texts in far less than 16 times the time of one.
:class:`JudgeBatcher` owns one thread that judges every text the proxy's requests ask about: it
takes what is waiting (up to ``max_batch`` texts), judges the texts of each context and culture in
one :meth:`~emoethics.ethics.judge.Judge.judge_many` call, and hands each caller its own judgement.
A text that arrives alone is judged at once (no waiting for company); under load the queue fills
while a batch is judged, so the next batch is larger. One thread also means the judge's encoders
are never run by several threads fighting over two cores.

The same thread reads the emotions of the users' last messages (:meth:`JudgeBatcher.read`, for the
proxy's empathy), in batches of their own, so that every encoder pass of the proxy is made there.

A batch that fails (one of its texts is not judgeable) is judged again text by text, so each caller
gets its own judgement or its own error.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from ..ethics.judge import Judgement
from ..schema.profile import EmotionProfile

#: Judge ``texts`` in ``context`` for ``culture`` (one judgement per text, in order).
JudgeMany = Callable[[list[str], str, str | None], list[Judgement]]
#: The emotion profiles of ``texts`` (one per text, in order).
ReadMany = Callable[[list[str]], list[EmotionProfile]]
#: What a request asks for: a judgement, or an emotion reading (context and culture unused).
JUDGE, READ = "judge", "read"


@dataclass
class Request:
    """One text waiting for its judgement (or its emotion reading)."""

    text: str
    context: str
    culture: str | None
    kind: str = JUDGE
    result: Future[Any] = field(default_factory=Future)


class JudgeBatcher:
    """Judges (and reads) the texts that callers on any thread submit, in batches, on one thread of
    its own."""

    def __init__(self, judge_many: JudgeMany, max_batch: int = 32, read_many: ReadMany | None = None) -> None:
        self.judge_many = judge_many
        self.read_many = read_many
        self.max_batch = max_batch
        self.batches = 0
        self.texts = 0
        self._queue: queue.SimpleQueue[Request | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def judge(self, text: str, context: str, culture: str | None = None) -> Judgement:
        """The fast judgement of ``text`` (blocks until its batch is judged; raises its error)."""
        return self._submit(Request(text, context, culture))

    def read(self, text: str) -> EmotionProfile:
        """The emotion profile of ``text`` (blocks until its batch is read; raises its error)."""
        if self.read_many is None:
            raise RuntimeError("this batcher was made without a reader")
        return self._submit(Request(text, "", None, READ))

    def _submit(self, request: Request) -> Any:
        self._running()
        self._queue.put(request)
        return request.result.result()

    def close(self) -> None:
        """Stop the thread once the texts already submitted are judged."""
        with self._start:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None

    def _running(self) -> None:
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="emoethics-judge-batcher", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(more)
            groups: dict[tuple[str, str, str | None], list[Request]] = {}
            for r in batch:
                groups.setdefault((r.kind, r.context, r.culture), []).append(r)
            for (kind, context, culture), requests in groups.items():
                self._judge_group(requests, context, culture, kind)

    def _judge_group(self, requests: list[Request], context: str, culture: str | None, kind: str = JUDGE) -> None:
        texts = [r.text for r in requests]
        try:
            if kind == READ and self.read_many is not None:
                judged: list[Any] = self.read_many(texts)
            else:
                judged = self.judge_many(texts, context, culture)
        except Exception as e:  # noqa: BLE001 (handed to the callers, text by text)
            if len(requests) == 1:
                requests[0].result.set_exception(e)
                return
            for r in requests:  # which text failed: each caller gets its own answer
                self._judge_group([r], context, culture, kind)
            return
        self.batches += 1
        self.texts += len(requests)
        for r, j in zip(requests, judged, strict=True):
            r.result.set_result(j)
