"""The database store on SQLite (always) and PostgreSQL (when EMOETHICS_TEST_DATABASE_URL names
one; .ci/run starts it): migrations, the review queue, feedback durability, runs, rulebooks, keys."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import text

from emoethics.errors import ConfigError, InputError
from emoethics.store import db
from emoethics.store.keys import KeyStore
from emoethics.store.models import Base
from emoethics.store.queue import Case, Feedback, ReviewStore
from emoethics.store.records import Records

PG = os.environ.get("EMOETHICS_TEST_DATABASE_URL")
#: one PostgreSQL database for the run: its tests stay on one worker of ``pytest -n``
pytestmark = pytest.mark.xdist_group("postgres")
TABLES = [
    "alembic_version",
    "api_keys",
    "cases",
    "feedback",
    "guideline_files",
    "jobs",
    "rate_windows",
    "rulebook_activations",
    "rulebooks",
    "runs",
    "verdicts",
]


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    eng = create_engine(url)
    with eng.begin() as c:
        Base.metadata.drop_all(c)
        c.execute(text("DROP TABLE IF EXISTS alembic_version"))
    eng.dispose()
    db.forget_engines()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    if not PG:
        pytest.skip("no PostgreSQL: set EMOETHICS_TEST_DATABASE_URL (.ci/run starts one)")
    _reset_postgres(PG)
    return PG


def case(**kw) -> Case:
    return Case(
        **{
            "kind": "low-confidence",
            "text": "Maybe rude?",
            "context": "personal",
            "verdict": "review",
            "confidence": 0.3,
            "rationale": "unsure",
            **kw,
        }
    )


def test_migrations_create_the_schema_the_models_describe(url):
    assert db.schema_tables(url) == TABLES
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine(url).connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []


def test_sqlite_uses_the_write_ahead_log(tmp_path):
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    with db.engine(url).connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_review_queue_and_feedback(url):
    store = ReviewStore(url=url)
    a, b = store.enqueue(case(text="first")), store.enqueue(case(text="second", detail={"k": [1, 2]}))
    assert [c.id for c in store.pending()] == [a.id, b.id]
    assert store.case(b.id).detail == {"k": [1, 2]}
    fb = store.add_feedback(Feedback(case_id=a.id, decision="relabel", label="allow", reviewer="ana"))
    assert [c.id for c in store.pending()] == [b.id]
    assert store.counts() == {"cases": 2, "pending": 1}
    assert store.feedback(a.id) == [fb]
    with pytest.raises(InputError, match="no case"):
        store.add_feedback(Feedback(case_id="nope", decision="accept"))
    with pytest.raises(InputError, match="relabel needs"):
        store.add_feedback(Feedback(case_id=a.id, decision="relabel"))
    with pytest.raises(InputError, match="edit-rule needs"):
        store.add_feedback(Feedback(rule_id="r", decision="edit-rule", rule_text="  "))


def test_runs_guidelines_and_rulebooks_are_kept(url):
    from emoethics.ethics.guidelines import load_guidelines

    rec = Records(url)
    run = rec.record_run(
        "judge", {"text": "hi"}, {"verdict": "allow"}, models={"judge": "m"}, usage={"calls": 1}, seconds=0.5
    )
    rec.record_run("judge", {"text": "x"}, error="server down")
    runs = rec.runs("judge")
    assert {r.id for r in runs} >= {run} and {r.status for r in runs} == {"ok", "error"}
    g = load_guidelines("default")
    assert rec.save_guidelines(g) == rec.save_guidelines(g) == g.version
    assert rec.guideline_versions() == [g.version]
    with pytest.raises(InputError, match="no rulebook"):
        rec.rulebook_content("latest")


def test_two_processes_saving_the_same_guidelines_at_once_both_succeed(url, monkeypatch):
    """Two proxy workers start together: each finds no row, and the second insert meets the first's."""
    from sqlalchemy.orm import Session

    from emoethics.ethics.guidelines import load_guidelines

    g = load_guidelines("default")
    rec = Records(url)
    rec.save_guidelines(g)  # the other worker's, committed first
    real_get = Session.get
    calls = []

    def get_missing_once(self, cls, key, **kw):
        calls.append(key)
        return None if len(calls) == 1 else real_get(self, cls, key, **kw)

    monkeypatch.setattr(Session, "get", get_missing_once)
    assert rec.save_guidelines(g) == g.version
    assert len(calls) == 2 and rec.guideline_versions() == [g.version]


def test_api_keys_are_stored_as_digests_and_can_be_revoked(url):
    keys = KeyStore(url)
    key, secret = keys.create("app", "5/second")
    assert secret.startswith("ee_") and keys.verify(secret).id == key.id
    with db.engine(url).connect() as c:
        stored = c.execute(text("SELECT digest FROM api_keys")).scalars().all()
    assert secret not in stored and len(stored[0]) == 64
    keys.revoke(key.id)
    assert keys.verify(secret) is None and keys.verify("") is None
    with pytest.raises(InputError, match="rate limit"):
        keys.create("x", "lots")


def test_a_bad_database_url_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not a database URL"):
        db.engine("not a url")
    with pytest.raises(ConfigError, match="cannot"):
        db.engine("postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_acknowledged_feedback_survives_a_kill(url):
    """A process records feedback and is killed (SIGKILL) the moment the call returns."""
    store = ReviewStore(url=url)
    c = store.enqueue(case())
    script = textwrap.dedent(f"""
        import os, signal
        from emoethics.store.queue import Feedback, ReviewStore
        fb = ReviewStore(url={url!r}).add_feedback(Feedback(case_id={c.id!r}, decision="accept", note="kept"))
        print(fb.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    fb_id = proc.stdout.strip()
    db.forget_engines()
    assert [f.id for f in ReviewStore(url=url).feedback(c.id)] == [fb_id]


def _cli(*args: str, data: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, EMOETHICS_DATA_DIR=data)
    env.pop("EMOETHICS_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "emoethics.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_commands_log_their_runs_and_manage_keys(tmp_path):
    import json

    p = _cli("analyze", "--backend", "sensor", "What a lovely day", "--json", data=str(tmp_path))
    assert p.returncode == 0, p.stderr
    [run] = json.loads(_cli("runs", "--json", data=str(tmp_path)).stdout)
    assert (run["kind"], run["source"], run["inputs"]["text"]) == ("analyze", "cli", "What a lovely day")
    assert run["output"]["analyzer"].startswith("sensor")
    made = json.loads(_cli("keys", "create", "ci", "--json", data=str(tmp_path)).stdout)
    assert made["key"].startswith("ee_")
    assert _cli("keys", "revoke", made["id"], data=str(tmp_path)).returncode == 0
    [listed] = json.loads(_cli("keys", "list", "--json", data=str(tmp_path)).stdout)
    assert listed["revoked"] and "key" not in listed
    bad = _cli("keys", "create", "x", "--rate-limit", "lots", data=str(tmp_path))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "rate limit" in bad.stderr
    public = _cli("serve", "--host", "0.0.0.0", data=str(tmp_path))
    assert public.returncode == 2 and "--public" in public.stderr


def test_a_queue_kept_as_json_lines_by_earlier_versions_is_imported_once(tmp_path):
    old = case(text="from the old queue")
    fb = Feedback(case_id=old.id, decision="accept")
    (tmp_path / "review_queue.jsonl").write_text(old.model_dump_json() + "\n{cut off", encoding="utf-8")
    (tmp_path / "feedback.jsonl").write_text(fb.model_dump_json() + "\n", encoding="utf-8")
    store = ReviewStore(tmp_path)
    assert [c.id for c in store.cases()] == [old.id] and [f.id for f in store.feedback()] == [fb.id]
    assert (tmp_path / "review_queue.jsonl.imported").is_file() and not (tmp_path / "feedback.jsonl").exists()
    assert len(ReviewStore(tmp_path).cases()) == 1


def test_the_verdict_log_counts_by_day_context_and_shadow_and_activations_are_ordered(url):
    import datetime

    from emoethics.store.verdicts import Filters, VerdictLog, VerdictRecord

    day = datetime.datetime(2026, 12, 1, 9, tzinfo=datetime.UTC)
    rows = [
        VerdictRecord(created=day, context="workplace", verdict="allow", judged_verdict="allow", mode="observe"),
        VerdictRecord(
            created=day,
            context="workplace",
            verdict="block",
            judged_verdict="block",
            mode="observe",
            guideline="respect",
            shadow_rulebook="rb",
            shadow_verdict="allow",
        ),
        VerdictRecord(
            created=day + datetime.timedelta(days=1),
            context="personal",
            language="fr",
            verdict="review",
            judged_verdict="review",
        ),
    ]
    Records(url).record_verdicts(rows)
    log = VerdictLog(url)
    by_day = {(r["day"], r["verdict"]): (r["n"], r["would_act"], r["observed"]) for r in log.by_day(Filters())}
    assert by_day == {
        ("2026-12-01", "allow"): (1, 0, 1),
        ("2026-12-01", "block"): (1, 1, 1),
        ("2026-12-02", "review"): (1, 0, 0),
    }
    assert log.by_context_and_verdict(Filters(language="fr")) == {"personal": {"review": 1}}
    assert log.counts("guideline", Filters(context="workplace")) == {"": 1, "respect": 1}
    assert log.shadow(Filters())["matrix"] == {"block": {"allow": 1}} and log.shadow(Filters())["changed"] == 1
    assert [r["verdict"] for r in log.rows(Filters(day="2026-12-02"))] == ["review"]
    rec = Records(url)
    for i in range(3):
        rec.save_rulebook(_rulebook(i))
    for i in (0, 1, 2, 1):
        rec.activate_rulebook(_rulebook(i).id, actor=f"r{i}")
    assert rec.active_rulebook() == _rulebook(1).id
    assert [a["previous"] for a in rec.activations()][:2] == [_rulebook(2).id, _rulebook(1).id]


def _rulebook(i: int):
    from emoethics.ethics.sshf import Rulebook

    return Rulebook(
        version=i + 1,
        parent=None,
        created="2026-12-03T00:00:00Z",
        guidelines_version="g",
        generator="none",
        analyzer="none",
        contexts=[],
        rules=[],
        examples=[],
    )
