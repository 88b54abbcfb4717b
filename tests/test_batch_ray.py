"""The Ray engine on a local Ray instance gives the same rows as the local engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emoethics.batch import BatchOptions, JobSpec, run_batch
from emoethics.config import load_settings
from fault_server import FaultMix, fault_server

from conftest import has_module

pytestmark = [
    pytest.mark.skipif(not has_module("ray"), reason="ray is not installed"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

#: Fields that say how a row was made (timing, usage, attempts), not what it is.
RUN_FIELDS = ("seconds", "usage", "attempts")


@pytest.fixture(scope="module")
def ray_local():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


def by_index(path: Path) -> dict[int, dict]:
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        assert r["index"] not in rows
        rows[r["index"]] = {k: v for k, v in r.items() if k not in RUN_FIELDS}
    return rows


def write_input(path: Path) -> Path:
    """40 texts and one that cannot be done, as JSONL, CSV or Parquet (a text spans two lines)."""
    texts = [f"Text {i}: I can't believe they did this to me!" + ("\nTwice!" if i == 5 else "") for i in range(40)]
    if path.suffix == ".csv":
        import csv

        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "text"])
            w.writerows([[f"t{i}", t] for i, t in enumerate(texts)] + [["t40", ""]])
    elif path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"id": [f"t{i}" for i in range(41)], "text": texts + [None]}), path, row_group_size=16)
    else:
        with path.open("w", encoding="utf-8") as f:
            f.writelines(json.dumps({"id": f"t{i}", "text": t}) + "\n" for i, t in enumerate(texts))
            f.write("{broken\n")
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_ray_and_local_engines_give_the_same_rows(ray_local, tmp_path, suffix):
    src = write_input(tmp_path / f"in{suffix}")
    # some faults, answered the same way whichever engine asks (answers depend on the text only)
    mix = FaultMix(error500=0.05, malformed=0.05, partial=0.2, seed=2)
    with fault_server(mix) as srv:
        s = load_settings({"generator": {"base_url": srv.url, "model": "fault", "timeout": 2.0}}, no_cache=True)
        opts = dict(concurrency=4, batch_size=4, retries=4, backoff=0.02)
        local = run_batch(
            JobSpec(kind="analyze", settings=s), src, tmp_path / "local.jsonl", options=BatchOptions(**opts)
        )
        distributed = run_batch(
            JobSpec(kind="analyze", settings=s),
            src,
            tmp_path / "ray.jsonl",
            options=BatchOptions(engine="ray", workers=2, worker_cpus=0.5, **opts),
        )
    assert local.complete and distributed.complete and distributed.engine == "ray"
    a, b = by_index(tmp_path / "local.jsonl"), by_index(tmp_path / "ray.jsonl")
    assert sorted(a) == sorted(b) == list(range(41))
    assert a == b
    assert distributed.ok == local.ok == 40 and distributed.failed == 1
