"""A session with its store: what the service and the proxy each hold, built one way.

A :class:`Workspace` is a :class:`~emoethics.session.Session` (the models of every role, made once
on first use) together with the store those models' work is recorded in: the run log
(:class:`~emoethics.store.records.Records`), the review queue, each guideline version saved once,
each stored rulebook version read once, and the slots that let ``concurrency`` language-model
operations run at a time (one for the embedded model, which is not thread-safe). The service's
operations (:class:`~emoethics.service.workspace.ServiceWorkspace`) and the proxy's
(:class:`~emoethics.proxy.workspace.ProxyWorkspace`) are built on it.
"""

from __future__ import annotations

import threading

from .config import Settings
from .emotions.analysis import Analyzer
from .ethics.guidelines import GuidelineSet
from .ethics.sshf import Rulebook, load_rulebook
from .llm.base import Backend
from .session import Session
from .store.queue import ReviewStore
from .store.records import Records


class Workspace:
    """A session and its store (module docstring). Pass ready objects to replace a role's model
    (tests, or an application that already holds them)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        url: str | None = None,
        concurrency: int = 1,
        generator: Backend | None = None,
        judge_backend: Backend | None = None,
        adversary: Backend | None = None,
        analyzer: Analyzer | None = None,
        critic: Analyzer | None = None,
    ) -> None:
        self.session = Session(
            settings,
            generator=generator,
            judge_backend=judge_backend,
            adversary=adversary,
            analyzer=analyzer,
            critic=critic,
        )
        self.settings = self.session.settings
        self.records = Records(url)
        self.store = ReviewStore(url=self.records.url)
        #: ``concurrency`` language-model operations at a time
        self.model_slot = threading.BoundedSemaphore(max(1, concurrency))
        self._saved_guidelines: set[str] = set()
        self._stored_rulebooks: dict[str, Rulebook] = {}

    def save_guidelines(self, guidelines: GuidelineSet) -> None:
        """Store the guideline version a judgement names (once per version in this workspace)."""
        if guidelines.version not in self._saved_guidelines:
            self.records.save_guidelines(guidelines)
            self._saved_guidelines.add(guidelines.version)

    def rulebook(self, name: str | None) -> Rulebook | None:
        """A rulebook by file, stored id, 'latest' or 'active', from this workspace's database. A
        stored version never changes (its id is a hash of its content), so each is read once."""
        if not name:
            return None
        if name.startswith("rulebook-v") and name in self._stored_rulebooks:
            return self._stored_rulebooks[name]
        book = load_rulebook(name, url=self.records.url)
        if name.startswith("rulebook-v"):
            self._stored_rulebooks[name] = book
        return book
