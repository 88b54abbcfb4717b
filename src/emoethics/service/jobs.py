"""Long requests (sweeps, debates, rectification) as background jobs with a status in the database.

A job is recorded as *queued* before the request returns, then run on the service's job thread;
its result or error is stored when it ends. Jobs a restart interrupted are marked failed when
the service starts again, so a client never waits on a job nobody is running.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel
from sqlalchemy import update

from ..errors import EmoethicsError
from ..store import db
from ..store.models import JobRow, utcnow
from ..store.records import jsonable
from .security import hide_database


class Job(BaseModel):
    """A background job and, once it ended, its result or error."""

    id: str
    kind: str
    status: str
    created: datetime.datetime
    updated: datetime.datetime
    result: Any = None
    error: str | None = None


class JobRunner:
    def __init__(self, url: str, workers: int = 1) -> None:
        self.url = url
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def recover(self) -> int:
        """Mark jobs left queued or running by an earlier process as failed; how many there were."""
        with db.session(self.url) as s:
            res = s.execute(
                update(JobRow)
                .where(JobRow.status.in_(("queued", "running")))
                .values(status="failed", error="interrupted: the service restarted", updated=utcnow())
            )
            return getattr(res, "rowcount", 0) or 0

    def submit(self, kind: str, request: dict[str, Any], fn: Callable[[], Any], key_id: str | None = None) -> Job:
        row = JobRow(kind=kind, request=jsonable(request), key_id=key_id)
        with db.session(self.url) as s:
            s.add(row)
            s.flush()
            job = _job(row)
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="emoethics-job")
            self._pool.submit(self._run, job.id, fn)
        return job

    def _set(self, job_id: str, **values: Any) -> None:
        with db.session(self.url) as s:
            s.execute(update(JobRow).where(JobRow.id == job_id).values(updated=utcnow(), **values))

    def _run(self, job_id: str, fn: Callable[[], Any]) -> None:
        self._set(job_id, status="running")
        try:
            result = fn()
        except EmoethicsError as e:
            self._set(job_id, status="failed", error=hide_database(str(e), self.url))
        except Exception as e:  # noqa: BLE001 - a job's failure is reported in its status, not lost
            self._set(
                job_id, status="failed", error=hide_database(f"internal error: {type(e).__name__}: {e}", self.url)
            )
        else:
            self._set(job_id, status="done", result=jsonable(result))

    def get(self, job_id: str, key_id: str | None = None) -> Job | None:
        """The job, if it exists and (when ``key_id`` is given) was submitted with that key."""
        with db.session(self.url) as s:
            row = s.get(JobRow, job_id)
            if row is None or (key_id is not None and row.key_id not in (None, key_id)):
                return None
            return _job(row)

    def shutdown(self) -> None:
        """Stop taking jobs; queued ones are left for ``recover`` to mark on the next start."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        status=row.status,
        created=row.created,
        updated=row.updated,
        result=row.result,
        error=row.error,
    )
