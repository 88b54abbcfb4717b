"""Properties of every parser and public function that takes text: on any input they return a
well-formed value or raise one of the project's own errors (errors.py), never anything else."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emoethics import api
from emoethics.batch.checkpoint import scan_csv, scan_jsonl
from emoethics.batch.io import detect_format, iter_csv, iter_jsonl, iter_parquet, jsonl_record
from emoethics.emotions.analysis import LLMAnalyzer, _norm, parse_readings
from emoethics.errors import ConfigError, EmoethicsError, InputError
from emoethics.ethics.guidelines import load_guidelines
from emoethics.ethics.injection import find_injections, readings, sanitise, without_injections
from emoethics.ethics.signatures import load_signatures
from emoethics.ethics.sshf import load_rulebook
from emoethics.llm.base import parse_json
from emoethics.llm.openai_backend import retry_after
from emoethics.schema.emotion_models import load_model, resolve_target
from emoethics.textio import check_text, decode

from fakes import ScriptedBackend

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODEL_SPEED = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# text that looks a little like what the parsers expect, and anything at all
jsonish = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4),
    max_leaves=12,
)
texts = st.text(max_size=300) | st.from_regex(r"[{}\[\]\"':, a-z0-9<>|#\n.!?]{0,120}", fullmatch=True)
lines = st.binary(max_size=300) | st.lists(jsonish, max_size=6).map(
    lambda xs: "\n".join(json.dumps(x) for x in xs).encode()
)


@FAST
@given(texts)
def test_parse_json(text):
    try:
        parse_json(text)
    except ValueError:
        pass


@FAST
@given(texts)
def test_check_text_and_decode(text):
    try:
        out = check_text(text)
        assert out == out.strip() and out
    except InputError:
        pass
    try:
        decode(text.encode("utf-8", "surrogatepass"), "x")
    except InputError:
        pass


@FAST
@given(lines)
def test_batch_readers_on_any_bytes(data):
    for reader in (iter_jsonl, iter_csv):
        try:
            recs = list(reader(io.BytesIO(data), "in"))
        except InputError:
            continue
        assert [r.index for r in recs] == list(range(len(recs)))
        for r in recs:
            assert (r.text is None) == (r.error is not None) and isinstance(r.id, str)
            json.dumps(r.id, ensure_ascii=False).encode("utf-8")  # an id can always be written out


@FAST
@given(st.binary(max_size=200), st.text(max_size=10))
def test_jsonl_record_and_parquet_reader(line, field):
    rec = jsonl_record(line.replace(b"\n", b" "), 0, "in:1", field or "text", "id")
    assert (rec.text is None) == (rec.error is not None)
    try:
        list(iter_parquet(io.BytesIO(line), "in"))
    except InputError:
        pass


@FAST
@given(st.binary(max_size=400))
def test_resume_scans_on_any_output_file(data):
    with tempfile.TemporaryDirectory() as tmp:
        for scan in (scan_jsonl, lambda p: scan_csv(p, ["index", "id", "ok"])):
            p = Path(tmp) / "out"
            p.write_bytes(data)
            try:
                cp = scan(p)
            except InputError:
                continue
            rest = p.read_bytes()
            assert rest == data[: len(rest)] and (not rest or rest.endswith(b"\n"))
            assert cp.ok + cp.failed + cp.duplicates >= 0


@FAST
@given(texts)
def test_injection_filter(text):
    found = find_injections(text)
    for f in found:
        assert text[f.start : f.end].strip() == f.text and f.start < f.end
    rest = without_injections(text, found)
    assert isinstance(rest, str)
    assert "\u202e" not in sanitise(text) and "\u200b" not in sanitise(text)
    assert all(isinstance(r, str) for r in readings(text))


@FAST
@given(jsonish, texts)
def test_parse_readings(data, text):
    try:
        out = parse_readings(data, load_model("plutchik"), text)
    except ValueError:
        return
    assert len(out) == 4 and all(_norm(c) in _norm(text) for r in out for c in r.cues)


@FAST
@given(st.lists(texts, min_size=2, max_size=4), jsonish)
def test_several_texts_analysis_on_any_reply(items, reply):
    backend = ScriptedBackend([json.dumps(reply)], max_reasks=0)
    try:
        profiles = LLMAnalyzer(backend).analyze_several(items)
    except EmoethicsError:
        return
    assert len(profiles) == len(items) and any(p is not None for p in profiles)


@FAST
@given(
    st.text(max_size=30),
    st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    st.one_of(st.none(), st.text(max_size=15)),
)
def test_targets(emotion, intensity, level):
    try:
        resolve_target(load_model("plutchik"), emotion or None, intensity, level or None)
    except ConfigError:
        pass


@FAST
@given(st.dictionaries(st.sampled_from(["retry-after", "retry-after-ms", "x"]), st.text(max_size=40)))
def test_retry_after_never_fails(headers):
    wait = retry_after(headers)
    assert wait is None or wait >= 0


@FAST
@given(st.text(max_size=400) | jsonish.map(lambda x: json.dumps(x)))
def test_data_file_loaders_on_any_text(content):
    with tempfile.TemporaryDirectory() as tmp:
        for name, loader in (
            ("m.yaml", load_model),
            ("g.yaml", load_guidelines),
            ("s.json", load_signatures),
            ("r.json", load_rulebook),
        ):
            p = Path(tmp) / name
            p.write_text(content, encoding="utf-8", errors="surrogatepass")
            try:
                loader(str(p))
            except ConfigError:
                pass


@FAST
@given(st.text(max_size=30))
def test_detect_format(name):
    try:
        assert detect_format(name) in ("jsonl", "csv", "parquet")
    except InputError:
        pass


_sensor = None
_judge = None


@MODEL_SPEED
@given(texts)
def test_analyze_and_judge_with_the_sensor(text):
    global _sensor, _judge
    if _sensor is None:
        _sensor = api.make_analyzer(settings=api.load_settings({"analyzer": {"backend": "sensor"}}))
        _judge = api.make_judge(use_model=False)
    try:
        p = api.analyze(text, analyzer=_sensor)
        assert len(p.readings) == 4 and all(-1 <= r.intensity <= 1 for r in p.readings)
    except InputError:
        return
    j = _judge.judge(text)
    assert j.verdict in ("allow", "review", "rectify", "block") and j.judged_text.strip()
