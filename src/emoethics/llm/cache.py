"""A content-addressed response cache in SQLite.

The key is the sha256 of everything that determines a completion: backend and model id, sampling
parameters, messages and output schema. Only validated outputs are stored, so a cached answer is
always usable. Deterministic calls (temperature 0) use the cache by default.

One cache file is shared by the threads of a process (one connection behind a lock) and by
processes (batch workers, Ray actors on one machine): SQLite in WAL mode lets readers work while
one process writes, and writers wait for each other up to ``timeout`` seconds. A connection is
never carried across ``fork``: a child process opens its own. The cache is an optimisation, so a
cache that cannot be read or written (locked for too long, disk full) is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any


def cache_key(**parts: Any) -> str:
    """sha256 over a canonical JSON encoding of ``parts``."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """Maps cache keys to completion texts, with the model that produced them."""

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pid = -1
        with self._lock:
            self._connect()

    def _connect(self) -> sqlite3.Connection:
        """This process's connection (opened on first use, and again after a fork)."""
        if self._db is not None and self._pid == os.getpid():
            return self._db
        db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=self.timeout)
        for attempt in range(5):  # another process may hold the lock while it creates the file
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # no fsync per answer: a cache may lose the last few
                db.execute(
                    "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT NOT NULL, "
                    "text TEXT NOT NULL, prompt_tokens INTEGER, completion_tokens INTEGER, created REAL)"
                )
                db.commit()
                break
            except sqlite3.OperationalError:
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))
        self._db, self._pid = db, os.getpid()
        return db

    def get(self, key: str) -> tuple[str, int, int] | None:
        """The stored (text, prompt_tokens, completion_tokens) for ``key``, if any."""
        try:
            with self._lock:
                row = (
                    self._connect()
                    .execute("SELECT text, prompt_tokens, completion_tokens FROM responses WHERE key = ?", (key,))
                    .fetchone()
                )
        except sqlite3.Error:
            return None
        return (row[0], row[1] or 0, row[2] or 0) if row else None

    def put(self, key: str, model: str, text: str, prompt_tokens: int, completion_tokens: int) -> None:
        """Store a validated completion."""
        try:
            with self._lock:
                db = self._connect()
                db.execute(
                    "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)",
                    (key, model, text, prompt_tokens, completion_tokens, time.time()),
                )
                db.commit()
        except sqlite3.Error:
            pass  # a cache that cannot be written only costs a call next time

    def __len__(self) -> int:
        with self._lock:
            return self._connect().execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._db is not None and self._pid == os.getpid():
                self._db.close()
            self._db = None
