"""Batch input and output: streaming readers, resumable writers, the job description, and the
command line's errors for bad input files."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emoethics.batch import BatchOptions, JobSpec, run_batch
from emoethics.batch.checkpoint import DoneSet, scan_csv, scan_jsonl
from emoethics.batch.io import count_records, iter_csv, iter_jsonl, iter_records
from emoethics.config import load_settings
from emoethics.errors import InputError
from fault_server import fault_server

CLI = [sys.executable, "-m", "emoethics.cli"]


def settings(url: str):
    return load_settings({"generator": {"base_url": url, "model": "fault", "timeout": 2.0}}, no_cache=True)


# -- readers --------------------------------------------------------------------------------------


def test_jsonl_records_strings_objects_and_broken_lines():
    data = b'"just a string"\n\n{"id": 7, "text": "an object"}\n{"text": 3}\nnot json\n"\xff bad"\n{"body": "x"}\n'
    recs = list(iter_jsonl(io.BytesIO(data), "f.jsonl"))
    assert [r.index for r in recs] == [0, 1, 2, 3, 4, 5]  # the blank line is not a record
    assert (recs[0].id, recs[0].text) == ("0", "just a string") and (recs[1].id, recs[1].text) == ("7", "an object")
    assert "non-string 'text'" in recs[2].error and "f.jsonl:5: not valid JSON" in recs[3].error
    assert "not valid UTF-8" in recs[4].error and "no 'text' field" in recs[5].error


def test_csv_records_with_quoted_newlines_and_a_text_column():
    data = b'id,text,other\na,"one\nline two",x\n,second,y\nc\n'
    recs = list(iter_csv(io.BytesIO(data), "f.csv"))
    assert [(r.index, r.id, r.text) for r in recs[:2]] == [(0, "a", "one\nline two"), (1, "1", "second")]
    assert recs[2].text is None and "no 'text' value" in recs[2].error
    with pytest.raises(InputError, match="no column 'body'"):
        list(iter_csv(io.BytesIO(data), "f.csv", text_field="body"))


def test_parquet_records_and_counts(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": ["a", None, "c"], "id": [10, 11, None]}), path, row_group_size=2)
    recs = list(iter_records(path))
    assert [(r.index, r.id, r.text) for r in recs] == [(0, "10", "a"), (1, "11", None), (2, "2", "c")]
    assert "empty" in recs[1].error and count_records(path) == 3
    with pytest.raises(InputError, match="no column 'body'"):
        list(iter_records(path, text_field="body"))
    (tmp_path / "fake.parquet").write_text("hello")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        list(iter_records(tmp_path / "fake.parquet"))


def test_a_file_of_the_wrong_kind_fails_at_once(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(InputError, match="first record"):
        iter_records(tmp_path / "a.jsonl")
    with pytest.raises(InputError, match="no such file"):
        iter_records(tmp_path / "missing.jsonl")
    with pytest.raises(InputError, match="cannot tell the format"):
        iter_records(tmp_path / "a.txt")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(InputError, match="no records"):
        iter_records(tmp_path / "empty.jsonl")


# -- checkpoints ----------------------------------------------------------------------------------


def test_done_set_keeps_a_watermark_and_the_indices_above_it():
    d = DoneSet()
    for i in [0, 1, 3, 5, 2]:
        assert d.add(i)
    assert not d.add(3) and d.low == 4 and d.extra == {5} and len(d) == 5
    assert 4 not in d and 5 in d and 0 in d and d.count_below(5) == 4


def test_a_torn_jsonl_row_is_cut_and_redone(tmp_path):
    p = tmp_path / "out.jsonl"
    p.write_bytes(b'{"index":0,"id":"a","ok":true}\n{"index":2,"id":"c","ok":false,"error":"x"}\n{"index":1,"id":"b"')
    cp = scan_jsonl(p)
    assert cp.truncated_bytes == len(b'{"index":1,"id":"b"') and p.read_bytes().endswith(b"}\n")
    assert (cp.ok, cp.failed) == (1, 1) and 1 not in cp.done and {0, 2} <= {i for i in range(3) if i in cp.done}
    p.write_bytes(b'{"index":0,"id":"a","ok":true}\ngarbage line\n')
    with pytest.raises(InputError, match="not a result row"):
        scan_jsonl(p)


def test_a_torn_csv_record_is_cut_even_inside_quotes(tmp_path):
    p = tmp_path / "out.csv"
    cols = ["index", "id", "ok", "text"]
    p.write_text('index,id,ok,text\n0,a,true,"two\nlines"\n1,b,false,"cut\nhere', encoding="utf-8")
    cp = scan_csv(p, cols)
    assert p.read_text(encoding="utf-8") == 'index,id,ok,text\n0,a,true,"two\nlines"\n'
    assert cp.ok == 1 and 1 not in cp.done
    with pytest.raises(InputError, match="columns are not this job's"):
        scan_csv(p, ["index", "other"])


# -- whole runs: formats, resume, a different job ---------------------------------------------------


def make_input(tmp_path: Path, n: int = 30) -> Path:
    p = tmp_path / "in.jsonl"
    p.write_text(
        "".join(json.dumps({"id": f"x{i}", "text": f"Text {i}, what a day!"}) + "\n" for i in range(n)),
        encoding="utf-8",
    )
    return p


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet_outputs_resume(tmp_path, suffix):
    src = make_input(tmp_path)
    out = tmp_path / f"out{suffix}"
    with fault_server() as srv:
        spec = JobSpec(kind="analyze", settings=settings(srv.url))
        first = run_batch(spec, src, out, options=BatchOptions(limit=12, concurrency=2))
        assert first.processed == 12
        rest = run_batch(spec, src, out, options=BatchOptions(concurrency=2))
    assert rest.already_done == 12 and rest.processed == 18 and rest.complete
    if suffix == ".csv":
        with out.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        assert sorted(int(r["index"]) for r in rows) == list(range(30))
        assert rows[0]["sadness-joy:level"] and json.loads(rows[0]["result"])["readings"]
    else:
        import pyarrow.parquet as pq

        t = pq.read_table(out)
        assert sorted(t.column("index").to_pylist()) == list(range(30))
        assert set(t.column("ok").to_pylist()) == {True} and "fear-anger:intensity" in t.column_names
        assert (tmp_path / "out.parquet.rows.jsonl").exists()


def test_an_output_from_another_job_is_refused(tmp_path):
    src = make_input(tmp_path, 5)
    out = tmp_path / "out.jsonl"
    with fault_server() as srv:
        run_batch(JobSpec(kind="analyze", settings=settings(srv.url)), src, out)
        with pytest.raises(InputError, match="different job .*emotion_model"):
            run_batch(JobSpec(kind="analyze", settings=settings(srv.url), emotion_model="beam"), src, out)
        (tmp_path / "mine.jsonl").write_text("{}\n")
        with pytest.raises(InputError, match="not written by a batch job"):
            run_batch(JobSpec(kind="analyze", settings=settings(srv.url)), src, tmp_path / "mine.jsonl")
        again = run_batch(
            JobSpec(kind="analyze", settings=settings(srv.url), emotion_model="beam"),
            src,
            out,
            options=BatchOptions(restart=True),
        )
    assert again.processed == 5 and again.already_done == 0


# -- the command line -------------------------------------------------------------------------------


def run_cli(*args: str) -> tuple[int, str, str]:
    p = subprocess.run(
        [*CLI, "batch", *args], capture_output=True, timeout=120, env=dict(os.environ, EMOETHICS_NO_CACHE="1")
    )
    return p.returncode, p.stdout.decode(), p.stderr.decode()


@pytest.mark.parametrize(
    "name, content, extra, needle",
    [
        ("missing.jsonl", None, [], "no such file"),
        ("in.txt", b"hello", [], "cannot tell the format"),
        ("in.jsonl", b"\xff\xfe\x00garbage\n", [], "not valid UTF-8"),
        ("in.jsonl", b'{"body": "x"}\n', [], "no 'text' field"),
        ("in.csv", b"a,b\n1,2\n", [], "no column 'text'"),
        ("in.jsonl", b'"x"\n', ["--engine", "spark"], "unknown engine"),
        ("in.jsonl", b'"x"\n', ["--price", "cheap"], "--price is two numbers"),
    ],
)
def test_bad_input_files_get_one_clear_line(tmp_path, name, content, extra, needle):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    code, _out, err = run_cli("analyze", str(path), "-o", str(tmp_path / "out.jsonl"), "--backend", "sensor", *extra)
    assert code == 2, err
    assert "Traceback" not in err and err.strip().startswith("error:") and needle in err.replace("\n", " ")


def test_the_sensor_job_from_the_command_line(tmp_path):
    src = make_input(tmp_path, 70)
    code, out, err = run_cli("analyze", str(src), "-o", str(tmp_path / "out.jsonl"), "--backend", "sensor", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["ok"] == 70 and summary["usage"]["calls"] == 0 and summary["complete"]
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert {r["result"]["analyzer"] for r in rows} == {"sensor:minilm-vader"} and len(rows) == 70
