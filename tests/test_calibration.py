"""Recalibration from reviewers' decisions: the threshold fit, disputed cases, the calibrated
rulebook in the real fast judge (sensor, heads, guardrail), activation, shadow comparison, the
store's migration of a database with data in it, and the commands."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emoethics.errors import InputError
from emoethics.ethics.calibrate import (
    OFF,
    Calibration,
    ContextCalibration,
    Rate,
    fit_thresholds,
    truth_of,
    wilson,
)
from emoethics.ethics.guidelines import load_guidelines
from emoethics.ethics.review_loop import calibrate_rulebook, read_labelled, shadow_compare
from emoethics.ethics.sshf import calibrated_rulebook, load_rulebook
from emoethics.store.queue import Case, Feedback, ReviewStore, dump
from emoethics.store.records import Records

from service_world import sensor

CLI = [sys.executable, "-m", "emoethics.cli"]
INSULT = "You are a worthless idiot and nobody here wants you."
POLITE = "Could we move the meeting to Thursday afternoon, please?"


@pytest.fixture(scope="module")
def judge():
    from emoethics.session import Session

    return Session(critic=sensor()).make_judge("default", use_model=False)


def book_with(thresholds: dict[str, float]):
    """A first rulebook whose only content is pooled thresholds."""
    rate = Rate.of(0, 1)
    cal = Calibration(
        max_fpr=0.02,
        created="2026-12-03T00:00:00Z",
        cases=1,
        contexts=[
            ContextCalibration(
                context="*",
                thresholds=thresholds,
                cases=1,
                harmful=0,
                flag_rate=rate,
                false_positive_rate=rate,
                false_negative_rate=rate,
                before={},
            )
        ],
    )
    return calibrated_rulebook(None, cal, load_guidelines("default"), [])


def test_the_wilson_interval_holds_the_share_and_narrows_with_more_cases():
    lo, hi = wilson(2, 100)
    assert lo < 0.02 < hi
    lo2, hi2 = wilson(20, 1000)
    assert hi2 - lo2 < hi - lo
    assert wilson(0, 0) == (0.0, 1.0)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**31 - 1),
    st.floats(min_value=0.0, max_value=0.2),
)
def test_fitted_thresholds_flag_at_most_the_chosen_share_of_harmless_cases(seed, max_fpr):
    rng = np.random.default_rng(seed)
    n = 200
    harmful = rng.random(n) < 0.4
    scores = np.where(harmful[:, None], rng.beta(4, 2, (n, 3)), rng.beta(2, 4, (n, 3)))
    start = np.full(3, 0.3)
    t = fit_thresholds(scores, harmful, start, max_fpr)
    flagged = (scores >= t).any(axis=1)
    assert (flagged & ~harmful).sum() <= np.floor(max_fpr * (~harmful).sum() + 1e-9)
    assert not np.isin(t, scores).any()  # never on an observed score


def test_with_few_harmless_cases_the_fit_aims_lower_until_unseen_cases_keep_the_rate():
    from emoethics.ethics.calibrate import fit_checked

    rng = np.random.default_rng(7)
    n = 300
    harmful = rng.random(n) < 0.5
    scores = np.where(harmful[:, None], rng.beta(3, 2, (n, 2)), rng.beta(2, 3, (n, 2)))
    floor = np.zeros(2)
    t, aimed, checked = fit_checked(scores, harmful, np.full(2, 0.3), 0.05, floor)
    assert checked is not None and 0.0 <= aimed <= 0.05
    assert checked.value <= 0.05 or aimed == 0.0
    assert checked.n == (~harmful).sum()  # every harmless case counted once, on the fold it was left out of
    many = np.tile(scores, (8, 1)), np.tile(harmful, 8)
    assert fit_checked(*many, np.full(2, 0.3), 0.05, floor)[2] is None  # enough harmless cases: no check


def test_thresholds_are_lowered_to_catch_missed_harm_when_there_is_room():
    scores = np.array([[0.1], [0.2], [0.45], [0.5], [0.9]])
    harmful = np.array([False, False, True, True, True])
    t = fit_thresholds(scores, harmful, np.array([0.6]), 0.0)
    assert 0.2 + 0.03 <= t[0] <= 0.45  # catches both, keeping a margin from the harmless 0.2


def test_two_reviewers_who_disagree_make_a_disputed_case():
    case = Case(kind="proxy-review", text="x", context="personal", verdict="review", confidence=0.5, rationale="")
    a = Feedback(case_id=case.id, decision="accept", reviewer="a")
    b = Feedback(case_id=case.id, decision="relabel", label="allow", reviewer="b")
    c = Feedback(case_id=case.id, decision="relabel", label="block", reviewer="c")
    assert truth_of(case, [a]) == ("harmful", ["review"])
    assert truth_of(case, [a, b]) == ("disputed", ["review", "allow"])
    assert truth_of(case, [a, b, c])[0] == "harmful"
    assert truth_of(case, [Feedback(case_id=case.id, decision="edit-rule", rule_id="r", rule_text="t")]) is None


def test_a_calibrated_rulebook_moves_the_fast_judges_gates_and_names_itself(judge):
    from emoethics.session import Session

    before = judge.judge(INSULT, "workplace")
    assert before.verdict != "allow" and before.conduct_probabilities
    off = {g: OFF for g in ("conduct:respect", "conduct:fairness", "conduct:no-harm", "conduct:no-harassment")}
    off |= {"moral": OFF, "behaviour_low": OFF, "behaviour_high": OFF, "language": OFF}
    loose = book_with(off)
    lenient = Session(critic=sensor()).make_judge("default", rulebook=loose, use_model=False)
    after = lenient.judge(INSULT, "workplace")
    assert after.verdict == "allow" and after.rulebook_version == loose.id
    assert after.guardrail.allowed == (-1.0, 1.0)
    strict = book_with({"conduct:respect": 0.0001, "conduct:fairness": 0.0001, "conduct:no-harm": 0.0001})
    harsh = Session(critic=sensor()).make_judge("default", rulebook=strict, use_model=False)
    assert harsh.judge(POLITE, "workplace").verdict != "allow"  # every conduct reading reaches review
    assert judge.judge(POLITE, "workplace").verdict == "allow"


def queue_judged(store: ReviewStore, judge, items: list[tuple[str, bool]], context: str = "workplace") -> list[str]:
    ids = []
    for (text, harmful), j in zip(items, judge.judge_many([t for t, _ in items], context), strict=True):
        c = store.enqueue(
            Case(
                kind="proxy-review",
                text=text,
                context=context,
                verdict=j.verdict,
                confidence=j.confidence,
                rationale=j.rationale,
                detail={"judgement": dump(j)},
            )
        )
        store.add_feedback(Feedback(case_id=c.id, decision="relabel", label="block" if harmful else "allow"))
        ids.append(c.id)
    return ids


TRAFFIC = [
    (INSULT, True),
    ("I will find you and break your legs.", True),
    ("Shut up, you pathetic moron.", True),
    (POLITE, False),
    ("Thanks, the invoice is attached.", False),
    ("The parcel arrived today, all fine.", False),
    ("This report is sloppy and late again.", False),
]


def test_calibration_from_the_store_writes_the_next_version_without_activating_it(tmp_path, judge):
    url = f"sqlite:///{tmp_path / 'loop.db'}"
    store, records = ReviewStore(url=url), Records(url)
    ids = queue_judged(store, judge, TRAFFIC)
    store.add_feedback(Feedback(case_id=ids[-1], decision="relabel", label="block", reviewer="second"))
    book = calibrate_rulebook(judge, store, records, max_fpr=0.0)
    cal = book.calibration
    assert cal is not None and cal.disputed == [ids[-1]] and cal.cases == len(TRAFFIC) - 1
    pooled = cal.for_context("workplace")
    assert pooled is not None and pooled.context == "*"
    assert pooled.false_positive_rate.value == 0.0  # max_fpr 0: no harmless reviewed case flagged
    assert set(book.feedback_used) == {f.id for f in store.feedback()}
    assert records.rulebooks()[-1]["id"] == book.id and records.active_rulebook() is None
    # the judge with it flags none of the harmless reviewed texts
    from emoethics.session import Session

    fitted = Session(critic=sensor()).make_judge("default", rulebook=book, use_model=False)
    harmless = [t for t, h in TRAFFIC[:-1] if not h]
    assert all(j.verdict == "allow" for j in fitted.judge_many(harmless, "workplace"))
    # the next version builds on it
    again = calibrate_rulebook(judge, store, records, max_fpr=0.1, base=book)
    assert again.version == 2 and again.parent == book.id


def test_activation_is_explicit_recorded_and_reversible(tmp_path):
    url = f"sqlite:///{tmp_path / 'act.db'}"
    records = Records(url)
    one, two = book_with({"moral": 0.9}), book_with({"moral": 0.95})
    records.save_rulebook(one)
    records.save_rulebook(two)
    with pytest.raises(InputError, match="no rulebook 'rulebook-v9@nope'"):
        records.activate_rulebook("rulebook-v9@nope")
    records.activate_rulebook(one.id, actor="ann")
    records.activate_rulebook(two.id, actor="bob")
    assert records.active_rulebook() == two.id
    assert load_rulebook("active", url=url).id == two.id
    back = records.activate_rulebook(records.activations()[0]["previous"], actor="ann", note="undo")
    assert back["rulebook"] == one.id and back["previous"] == two.id
    records.activate_rulebook(None, actor="ann")
    assert records.active_rulebook() is None
    assert [a["actor"] for a in records.activations()] == ["ann", "ann", "bob", "ann"]


def test_shadow_comparison_records_what_the_candidate_would_decide(judge):
    lenient = book_with({"conduct:respect": OFF, "behaviour_low": OFF, "behaviour_high": OFF, "moral": OFF})
    from emoethics.session import Session

    candidate = Session(critic=sensor()).make_judge("default", rulebook=lenient, use_model=False)
    rows = shadow_compare(judge, candidate, [(INSULT, "workplace"), (POLITE, "workplace")])
    assert [r.shadow_rulebook for r in rows] == [lenient.id, lenient.id]
    assert rows[0].verdict != "allow" and rows[0].shadow_verdict == "allow"
    assert rows[1].verdict == rows[1].shadow_verdict == "allow"


def test_a_labelled_file_is_read_or_refused_in_one_line(tmp_path):
    good = tmp_path / "labelled.csv"
    good.write_text("text,label,context\nhello there,0,personal\ngo away idiot,block,\n", encoding="utf-8")
    assert read_labelled(good, "workplace") == [
        ("hello there", "personal", False),
        ("go away idiot", "workplace", True),
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": "maybe"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="label 'maybe' is neither harmful"):
        read_labelled(bad, "personal")


def test_the_migration_upgrades_a_database_with_data_in_it(tmp_path):
    """A database at the previous schema, with proxy runs in it: after the upgrade its runs are
    untouched and their verdicts are in the verdict log."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from emoethics.store import db
    from emoethics.store.verdicts import Filters, VerdictLog

    url = f"sqlite:///{tmp_path / 'old.db'}"
    eng = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        output = {
            "choices": [
                {"verdict": "rectify", "action": "rectified", "context": "workplace", "violations": ["respect"]}
            ],
            "verdict": "rectify",
        }
        for i, out in enumerate(
            [output, {"choices": [{"verdict": "allow", "action": "observed", "context": "personal"}]}]
        ):
            conn.execute(
                text(
                    "INSERT INTO runs (id, created, kind, source, status, inputs, output, models, usage, seconds) "
                    "VALUES (:id, :created, 'proxy', 'proxy', 'ok', '{}', :output, '{}', '{}', 0.1)"
                ),
                {"id": f"run{i}", "created": datetime.datetime(2026, 12, 1, 10, i), "output": json.dumps(out)},
            )
    eng.dispose()
    db.forget_engines()
    assert "verdicts" in db.schema_tables(url)  # opening it upgrades it
    assert [r.id for r in Records(url).runs("proxy")] == ["run1", "run0"]
    rows = VerdictLog(url).rows(Filters())
    assert {(r["run_id"], r["verdict"], r["context"], r["mode"], r["guideline"]) for r in rows} == {
        ("run0", "rectify", "workplace", "enforce", "respect"),
        ("run1", "allow", "personal", "observe", None),
    }


def run_cli(args: list[str], tmp_path: Path, stdin: str | None = None) -> tuple[int, str, str]:
    env = dict(os.environ, EMOETHICS_DATA_DIR=str(tmp_path / "data"))
    env.pop("EMOETHICS_DATABASE_URL", None)
    p = subprocess.run(CLI + args, capture_output=True, timeout=300, env=env, input=(stdin or "").encode())
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_calibrate_activate_and_shadow_from_the_command_line(tmp_path, judge):
    store = ReviewStore(tmp_path / "data")
    queue_judged(store, judge, TRAFFIC)
    code, out, err = run_cli(["sshf", "calibrate", "--max-fpr", "0.05", "--json"], tmp_path)
    assert code == 0, err
    made = json.loads(out)
    assert made["id"].startswith("rulebook-v1@") and made["calibration"]["cases"] == len(TRAFFIC)
    texts = tmp_path / "texts.jsonl"
    texts.write_text("\n".join(json.dumps({"text": t, "context": "workplace"}) for t, _ in TRAFFIC), encoding="utf-8")
    code, out, err = run_cli(["sshf", "shadow", made["id"], "--input", str(texts), "--json"], tmp_path)
    assert code == 0, err
    shadow = json.loads(out)
    assert shadow["texts"] == len(TRAFFIC) and shadow["candidate"] == made["id"] and shadow["active"] is None
    code, out, err = run_cli(["sshf", "activate", made["id"], "--actor", "ann"], tmp_path)
    assert code == 0 and f"in force: {made['id']} (was none)" in out, err
    code, out, _ = run_cli(["sshf", "rulebooks", "--json"], tmp_path)
    assert json.loads(out)["active"] == made["id"]
    code, _, err = run_cli(["sshf", "activate", "rulebook-v7@nothere"], tmp_path)
    assert code == 2 and "no rulebook 'rulebook-v7@nothere'" in err and "Traceback" not in err
    code, _, err = run_cli(["sshf", "calibrate", "--max-fpr", "0.9"], tmp_path)
    assert code == 2 and "Traceback" not in err


def test_a_batch_judge_with_a_shadow_rulebook_writes_its_verdict_beside_each_row(tmp_path):
    import csv

    lenient = book_with({"conduct:respect": OFF, "behaviour_low": OFF, "moral": OFF})
    path = lenient.save(tmp_path / "lenient.json")
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"text": t}) for t in (INSULT, POLITE)) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, _, err = run_cli(
        ["batch", "judge", str(src), "-o", str(out), "--no-model", "--context", "workplace", "--shadow", str(path)],
        tmp_path,
    )
    assert code == 0, err
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["shadow_verdict"] for r in rows] == ["allow", "allow"]
    assert rows[0]["verdict"] != "allow" and rows[0]["shadow_rulebook"] == lenient.id
