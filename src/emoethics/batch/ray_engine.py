"""The Ray engine: the same job on a Ray cluster, Ray Data partitioning the work.

Ray Data reads the input through :class:`RecordSource` (the same record parsing as the local
engine, so every record has the same ``index`` and ``id``; records already in the output are
skipped while reading), cuts it into blocks, and hands batches to a pool of actors (``workers``)
with ``map_batches``. Each actor builds the job once and runs each batch through the same
per-item code as the local engine (:func:`emoethics.batch.runner.process`: groups, retries,
failed rows), ``concurrency`` calls at a time. Result rows stream back to the driver, which
appends them to the output, so the output, its resume and the summary are those of the local
engine. Ray schedules and restarts the work; nothing here does.

The input path must be readable from the nodes that run the read: a shared filesystem, or an
object store URL (``s3://...``) that pyarrow can open. ``ray.init`` starts a local Ray when no
``address`` is given; ``address="ray://head:10001"`` connects to a cluster.
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..config import forwarded_environment
from ..errors import ConfigError, EmoethicsError, InputError
from .checkpoint import DoneSet
from .io import Record, iter_csv, iter_jsonl, iter_parquet
from .jobs import JobSpec

if TYPE_CHECKING:
    from .groups import BatchOptions, Sink

#: Environment variables the workers need to reach the same models and cache.


def _ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ConfigError("the ray engine needs Ray Data: pip install 'emoethics[ray]'") from None
    return ray


class _Raw(io.RawIOBase):
    """A pyarrow input stream as a Python raw file (for line iteration)."""

    def __init__(self, f: Any) -> None:
        self.f = f

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.f.read(len(b))
        b[: len(data)] = data
        return len(data)


def _source_class() -> type:
    """:class:`RecordSource`, defined once Ray is importable."""
    from ray.data.datasource import FileBasedDatasource

    class RecordSource(FileBasedDatasource):
        """Records of one JSONL, CSV or Parquet file, without those in ``done`` or past ``limit``."""

        def __init__(
            self,
            path: str,
            fmt: str,
            text_field: str,
            id_field: str,
            done: DoneSet,
            limit: int | None,
            block_rows: int = 256,
        ) -> None:
            super().__init__(path)
            self.fmt, self.text_field, self.id_field = fmt, text_field, id_field
            self.done, self.limit, self.block_rows = done, limit, block_rows

        def _open_input_source(self, filesystem: Any, path: str, **open_args: Any) -> Any:
            if self.fmt == "parquet":  # needs random access
                return filesystem.open_input_file(path)
            return super()._open_input_source(filesystem, path, **open_args)

        def _records(self, f: Any, path: str) -> Iterator[Record]:
            if self.fmt == "parquet":
                return iter_parquet(f, path, self.text_field, self.id_field)
            stream = io.BufferedReader(_Raw(f), buffer_size=1 << 16)
            reader = iter_jsonl if self.fmt == "jsonl" else iter_csv
            return reader(stream, path, self.text_field, self.id_field)

        def _read_stream(self, f: Any, path: str) -> Iterator[Any]:
            import pyarrow as pa

            cols: dict[str, list] = {"index": [], "id": [], "text": [], "error": []}
            for rec in self._records(f, path):
                if self.limit is not None and rec.index >= self.limit:
                    break
                if rec.index in self.done:
                    continue
                for k in cols:
                    cols[k].append(getattr(rec, k))
                if len(cols["index"]) >= self.block_rows:
                    yield pa.table(cols)
                    cols = {k: [] for k in cols}
            if cols["index"]:
                yield pa.table(cols)

    return RecordSource


class Worker:
    """A Ray actor: builds the job once, then turns batches of records into result rows."""

    def __init__(self, spec_json: str, retries: int, backoff: float, concurrency: int, group_size: int) -> None:
        from .retry import RetryPolicy

        self.job = JobSpec.model_validate_json(spec_json).build()
        self.policy = RetryPolicy(retries=retries, base=backoff)
        self.size = max(1, group_size)
        self.pool = ThreadPoolExecutor(1 if self.job.in_process else max(1, concurrency))

    def __call__(self, batch: Any) -> Any:
        """Result rows (as JSON, with their index) of a batch of records (a pyarrow table)."""
        import pyarrow as pa

        from .groups import groups, process

        cols = batch.to_pydict()
        records = [
            Record(int(i), str(d), t, e)
            for i, d, t, e in zip(cols["index"], cols["id"], cols["text"], cols["error"], strict=True)
        ]
        parts = self.pool.map(lambda g: process(self.job, self.policy, g, self.size), list(groups(records, self.size)))
        rows = [r for part in parts for r in part]
        return pa.table({"index": [r["index"] for r in rows], "row": [json.dumps(r, ensure_ascii=False) for r in rows]})


def _unwrap(e: BaseException) -> EmoethicsError | None:
    """The project error inside a Ray task error, if there is one."""
    seen = 0
    cur: BaseException | None = e
    while cur is not None and seen < 10:
        if isinstance(cur, EmoethicsError):
            return cur
        cause = getattr(cur, "cause", None)
        cur = cause if isinstance(cause, BaseException) else cur.__cause__
        seen += 1
    return None


def run_ray(
    spec: JobSpec,
    options: BatchOptions,
    path: str,
    fmt: str,
    text_field: str,
    id_field: str,
    done: DoneSet,
    sink: Sink,
    group_size: int,
) -> None:
    """Run the job on Ray; rows go to ``sink`` as batches finish."""
    ray = _ray()
    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
        if options.address:
            kwargs["address"] = options.address
        try:
            ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise ConfigError(
                f"cannot start or reach Ray at {options.address or 'a local instance'}: {str(e).splitlines()[0][:200]}"
            ) from None
        started = True
    try:
        for name in ("ray", "ray.data"):  # our progress bar and summary say what matters
            logging.getLogger(name).setLevel(logging.ERROR)
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        local = "://" not in path
        source = _source_class()(
            os.path.abspath(path) if local else path, fmt, text_field, id_field, done, options.limit
        )
        env = forwarded_environment()
        size = max(1, options.batch_size or group_size)
        ds = ray.data.read_datasource(source, num_cpus=0.25)
        ds = ds.map_batches(
            Worker,
            batch_format="pyarrow",
            batch_size=max(size, 32),
            fn_constructor_kwargs={
                "spec_json": spec.model_dump_json(),
                "retries": options.retries,
                "backoff": options.backoff,
                "concurrency": options.concurrency,
                "group_size": size,
            },
            compute=ray.data.ActorPoolStrategy(size=max(1, options.workers)),
            num_cpus=options.worker_cpus,
            runtime_env={"env_vars": env} if env else None,
        )
        for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            sink.accept([json.loads(r) for r in batch.column("row").to_pylist()])
            if sink.stopped:
                break
    except EmoethicsError:
        raise
    except Exception as e:  # noqa: BLE001 - a Ray failure becomes one line, its cause if it is ours
        inner = _unwrap(e)
        if inner is not None:
            raise inner from None
        if "Ray Client" in str(e) and "local files" in str(e):
            raise InputError(
                f"{path}: the cluster cannot read a local file; put the input on a shared "
                "filesystem or in object storage (s3://...)"
            ) from None
        raise ConfigError(f"the Ray run failed: {type(e).__name__}: {str(e).splitlines()[0][:300]}") from None
    finally:
        if started:
            ray.shutdown()
