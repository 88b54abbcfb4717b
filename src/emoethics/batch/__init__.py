"""Batch jobs: emotion analysis, judgement or rewriting of every text of a large file.

- :mod:`.io` streams records out of JSONL, CSV and Parquet files and writes result rows;
- :mod:`.checkpoint` makes the output file its own checkpoint, so a killed job resumes without
  losing or repeating an item;
- :mod:`.retry` retries transient backend failures with exponential backoff, jitter and the
  server's Retry-After;
- :mod:`.jobs` says what one item is for each kind of job, with the models of a :class:`~emoethics.session.Session`;
- :mod:`.runner` runs a job locally (bounded concurrency, per-item errors, a usage summary);
- :mod:`.ray_engine` runs the same job on a Ray cluster, Ray Data partitioning the input.

    from emoethics.batch import BatchOptions, JobSpec, run_batch
    summary = run_batch(JobSpec(kind="judge", context="workplace"), "in.jsonl", "out.jsonl")
"""

from .groups import BatchOptions
from .jobs import JobSpec
from .runner import Summary, run_batch

__all__ = ["BatchOptions", "JobSpec", "Summary", "run_batch"]
