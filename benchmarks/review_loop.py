"""The review loop on a replay: calibrate on 400 reviewed messages, measure on the other 1,600.

The replay is 2,000 messages with a known truth, all from the test splits of the shared abuse sets
that no head was trained on or had its thresholds chosen on (``training/train_conduct.py``'s
``split_of``: HatemojiBuild's test file, Davidson, Stormfront and MLMA English, French and Arabic),
drawn with a fixed seed and spread over three contexts (personal, workplace, customer-service).
Harmful means any label but none; harmless, the sets' own harmless labels (they are hard ones:
crude, hostile or about hate without being hateful).

1. The fast judge (no model) judges every message; every verdict goes into the verdict log.
2. 400 messages, drawn at random, are queued as review cases; simulated reviewers decide each
   from its label (accept when the verdict's harm matches it, else relabel to allow or block). A
   tenth get a second reviewer, who disagrees on a fifth of those: those ties are disputed and
   left out of the fit.
3. ``calibrate`` fits the gate thresholds to ``--max-fpr`` on the reviewed cases and writes a
   rulebook; the other 1,600 are judged again with it. Printed: the false-positive rate (harmless
   flagged: any verdict but allow) and recall (harmful flagged) before and after, with 95%
   Wilson intervals, on the 1,600; and what the calibration expected from the reviewed cases.
4. Speed: calibrating 10,000 reviewed cases read from the store (the replay's judgements, five
   times over), and building the dashboard's page over 100,000 recorded verdicts, in PostgreSQL
   with ``--database postgresql+psycopg://...`` (or ``$EMOETHICS_TEST_DATABASE_URL``), else SQLite.

    python benchmarks/review_loop.py                # writes benchmarks/results/review_loop.json
    python benchmarks/review_loop.py --smoke        # 200 messages, 60 reviewed (CI)
    python benchmarks/review_loop.py --smoke --results-dir /tmp/review_loop   # a tiny run (CI)

``--results-dir DIR`` writes ``review_loop.json`` into DIR (made if missing) instead of
``benchmarks/results``; ``--output`` still wins. ``--smoke`` alone writes no file (only with
``--output`` or ``--results-dir``); without the shared data it says so on stderr and exits 0.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "training"))

CONTEXTS = ("personal", "workplace", "customer-service")
SOURCES = ("davidson", "hatemoji", "stormfront", "mlma-en", "mlma-fr", "mlma-ar")
#: the shared abuse sets the replay reads (``train_conduct.load_rows``)
NEEDED = ("hatemoji_build", "davidson_hate_offensive", "stormfront_hate", "mlma_hate")


def replay(n: int, seed: int) -> list[dict]:
    """``n`` test-split messages with their truth and a context."""
    from train_conduct import load_rows

    english = [r for r in load_rows(False) if r["split"] == "test" and r["source"] in SOURCES]
    other = [r for r in load_rows(True) if r["split"] == "test" and r["source"] in ("mlma-fr", "mlma-ar")]
    pool = english + other
    rng = random.Random(seed)
    rows = rng.sample(pool, min(n, len(pool)))
    for r in rows:
        r["context"] = rng.choice(CONTEXTS)
        r["harmful"] = bool(r["cats"])
    return rows


def judge_all(judge, rows: list[dict]) -> list:
    return judge.judge_in_contexts([(r["text"], r["context"]) for r in rows])


def rates(rows: list[dict], verdicts: list[str]) -> dict:
    from emoethics.ethics.calibrate import Rate

    neg = [v != "allow" for r, v in zip(rows, verdicts, strict=True) if not r["harmful"]]
    pos = [v != "allow" for r, v in zip(rows, verdicts, strict=True) if r["harmful"]]
    return {
        "false_positive_rate": Rate.of(sum(neg), len(neg)).model_dump(),
        "recall": Rate.of(sum(pos), len(pos)).model_dump(),
    }


def review(store, rows: list[dict], judged: list, seed: int) -> list[str]:
    """Queue the reviewed messages and decide them as their labels say; the ids of the cases."""
    from emoethics.store.queue import Case, Feedback, dump

    rng = random.Random(seed + 1)
    ids = []
    for r, j in zip(rows, judged, strict=True):
        case = store.enqueue(
            Case(
                kind="traffic-sample",
                text=r["text"],
                context=j.context,
                verdict=j.verdict,
                confidence=j.confidence,
                rationale=j.rationale,
                guidelines=[h.guideline for h in j.violations],
                rulebook_version=j.rulebook_version,
                detail={"judgement": dump(j), "source": "replay"},
            )
        )
        ids.append(case.id)
        right = (j.verdict != "allow") == r["harmful"]
        first = Feedback(
            case_id=case.id,
            decision="accept" if right else "relabel",
            label=None if right else ("block" if r["harmful"] else "allow"),
            reviewer="reviewer-a",
        )
        store.add_feedback(first)
        if rng.random() < 0.1:
            disagree = rng.random() < 0.2
            label = ("allow" if r["harmful"] else "block") if disagree else ("block" if r["harmful"] else "allow")
            store.add_feedback(Feedback(case_id=case.id, decision="relabel", label=label, reviewer="reviewer-b"))
    return ids


def speed_calibration(judge, judged: list, rows: list[dict], n: int) -> dict:
    """Seconds to read ``n`` reviewed cases from a fresh SQLite store and calibrate on them."""
    from emoethics.ethics.calibrate import calibrate, reviewed_cases
    from emoethics.store import db
    from emoethics.store.models import CaseRow, FeedbackRow, new_id
    from emoethics.store.queue import ReviewStore, dump

    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder}/speed.db"
    dumped = [dump(j) for j in judged]
    with db.session(url) as s:
        for k in range(n):
            i = k % len(judged)
            cid = new_id()
            s.add(
                CaseRow(
                    id=cid,
                    created=f"2026-12-03T00:00:{k:08d}",
                    kind="traffic-sample",
                    text=rows[i]["text"],
                    context=judged[i].context,
                    verdict=judged[i].verdict,
                    confidence=judged[i].confidence,
                    rationale="",
                    guidelines=[],
                    detail={"judgement": dumped[i]},
                )
            )
            s.add(
                FeedbackRow(
                    id=new_id(),
                    created=f"2026-12-03T00:00:{k:08d}",
                    case_id=cid,
                    decision="relabel",
                    label="block" if rows[i]["harmful"] else "allow",
                    reviewer="reviewer-a",
                    note="",
                )
            )
    store = ReviewStore(url=url)
    start = time.perf_counter()
    cases = reviewed_cases(store.cases(), store.feedback(), judge)
    cal = calibrate(cases, judge, 0.02)
    return {
        "reviewed_cases": len(cases),
        "seconds": round(time.perf_counter() - start, 2),
        "contexts": len(cal.contexts),
    }


def speed_dashboard(url: str | None, judged: list, rows: list[dict], n: int) -> dict:
    """Milliseconds to build the dashboard page over ``n`` recorded verdicts and the replay's
    reviewed cases (median of 5)."""
    from sqlalchemy import delete, select

    from emoethics.service.dashboard import dashboard_html
    from emoethics.store import db
    from emoethics.store.models import CaseRow, FeedbackRow, VerdictRow
    from emoethics.store.queue import ReviewStore
    from emoethics.store.verdicts import Filters, VerdictLog

    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp()}/dashboard.db"
    where = db.describe(url).split(" ")[0]

    def clean() -> None:
        with db.session(url) as s:
            s.execute(delete(VerdictRow))
            replayed = select(CaseRow.id).where(CaseRow.kind == "traffic-sample")
            s.execute(delete(FeedbackRow).where(FeedbackRow.case_id.in_(replayed)))
            s.execute(delete(CaseRow).where(CaseRow.kind == "traffic-sample"))

    clean()
    review(ReviewStore(url=url), rows[:400], judged[:400], 1)
    start = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    rng = random.Random(3)
    records = [j.record("replay") for j in judged]
    batch = []
    for k in range(n):
        rec = records[k % len(records)].model_dump()
        rec["created"] = start + datetime.timedelta(seconds=rng.randrange(30 * 86400))
        rec["mode"] = "observe" if k % 3 == 0 else "enforce"
        rec["shadow_rulebook"], rec["shadow_verdict"] = ("rulebook-v2@x", rec["verdict"] if k % 7 else "allow")
        batch.append(VerdictRow(**rec))
        if len(batch) == 5000:
            with db.session(url) as s:
                s.add_all(batch)
            batch = []
    if batch:
        with db.session(url) as s:
            s.add_all(batch)
    log, store = VerdictLog(url), ReviewStore(url=url)
    times = {}
    for name, f in (("all", Filters()), ("one context", Filters(context="workplace"))):
        ms = []
        for _ in range(5):
            t0 = time.perf_counter()
            html = dashboard_html(log, store, f)
            ms.append((time.perf_counter() - t0) * 1000)
        times[name] = round(sorted(ms)[2], 1)
    clean()
    return {
        "verdicts": n,
        "reviewed_cases": min(400, len(rows)),
        "database": where,
        "ms_median": times,
        "page_bytes": len(html),
    }


def other_draws(judge, rows: list[dict], judged: list, args) -> list[dict]:
    """The same replay with other random draws of the reviewed cases: calibrated, then measured
    on the messages left (how much the figures move with the sample people reviewed)."""
    from emoethics.api import make_judge
    from emoethics.ethics.review_loop import calibrate_rulebook
    from emoethics.store.queue import ReviewStore
    from emoethics.store.records import Records

    out = []
    for draw in range(2, args.draws + 1):
        url = f"sqlite:///{tempfile.mkdtemp()}/draw.db"
        order = list(range(len(rows)))
        random.Random(args.seed * 1000 + draw).shuffle(order)
        reviewed, rest = sorted(order[: args.reviewed]), sorted(order[args.reviewed :])
        store = ReviewStore(url=url)
        review(store, [rows[i] for i in reviewed], [judged[i] for i in reviewed], draw)
        held = [rows[i] for i in rest]
        found = {"draw": draw, "before": rates(held, [judged[i].verdict for i in rest])}
        for name, cv in (("after", True), ("after_without_cross_validation", False)):
            book = calibrate_rulebook(judge, store, Records(url), args.max_fpr, cross_validate=cv)
            after = judge_all(make_judge(use_model=False, rulebook=book), held)
            found[name] = rates(held, [j.verdict for j in after])
        out.append(found)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="messages in the replay")
    ap.add_argument("--reviewed", type=int, default=400, help="of which reviewed")
    ap.add_argument("--max-fpr", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--database", default=os.environ.get("EMOETHICS_TEST_DATABASE_URL"), help="for the dashboard timing"
    )
    ap.add_argument(
        "--draws", type=int, default=1, help="also calibrate on this many other random draws of the reviewed cases"
    )
    ap.add_argument("--smoke", action="store_true", help="200 messages, 60 reviewed, small speed runs")
    ap.add_argument("--output", type=Path, default=None, help="the report's path (wins over --results-dir)")
    ap.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="folder for review_loop.json, made if missing (default: benchmarks/results; with --smoke, none)",
    )
    args = ap.parse_args()
    if args.smoke:
        args.n, args.reviewed = 200, 60
        missing = [name for name in NEEDED if not (DATA / name).is_dir()]
        if missing:
            print(
                f"review_loop.py --smoke: shared data missing ({DATA}: {', '.join(missing)}), skipped", file=sys.stderr
            )
            return

    from emoethics.api import make_judge
    from emoethics.ethics.review_loop import calibrate_rulebook
    from emoethics.store.queue import ReviewStore
    from emoethics.store.records import Records

    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder}/replay.db"
    store, records = ReviewStore(url=url), Records(url)
    rows = replay(args.n, args.seed)
    judge = make_judge(use_model=False)
    t0 = time.perf_counter()
    judged = judge_all(judge, rows)
    judge_s = time.perf_counter() - t0
    records.record_verdicts([j.record("replay") for j in judged])
    order = list(range(len(rows)))
    random.Random(args.seed).shuffle(order)
    reviewed, rest = sorted(order[: args.reviewed]), sorted(order[args.reviewed :])
    review(store, [rows[i] for i in reviewed], [judged[i] for i in reviewed], args.seed)

    plain = calibrate_rulebook(judge, store, records, args.max_fpr, cross_validate=False)
    book = calibrate_rulebook(judge, store, records, args.max_fpr)
    cal = book.calibration
    assert cal is not None
    calibrated = make_judge(use_model=False, rulebook=book)
    held = [rows[i] for i in rest]
    after = judge_all(calibrated, held)
    report = {
        "replay": {
            "messages": len(rows),
            "harmful": sum(r["harmful"] for r in rows),
            "by_source": {s: sum(r["source"] == s for r in rows) for s in SOURCES},
            "reviewed": len(reviewed),
            "disputed": len(cal.disputed),
            "max_fpr": args.max_fpr,
            "judge_ms_per_text": round(judge_s * 1000 / len(rows), 1),
        },
        "held_out_before": rates(held, [judged[i].verdict for i in rest]),
        "held_out_after": rates(held, [j.verdict for j in after]),
        "held_out_after_without_cross_validation": rates(
            held, [j.verdict for j in judge_all(make_judge(use_model=False, rulebook=plain), held)]
        ),
        "calibration_expected": {
            c.context: {
                "cases": c.cases,
                "false_positive_rate": c.false_positive_rate.model_dump(),
                "false_negative_rate": c.false_negative_rate.model_dump(),
                "before_fpr": c.before["false_positive_rate"].value,
                "aimed_fpr": c.aimed_fpr,
                "cross_validated_fpr": c.cross_validated_fpr.model_dump() if c.cross_validated_fpr else None,
                "thresholds": c.thresholds,
            }
            for c in cal.contexts
        },
        "rulebook": book.id,
    }
    if args.draws > 1:
        report["other_draws"] = other_draws(judge, rows, judged, args)
    if args.smoke:
        report["smoke"] = True
    out = args.output
    if out is None and (args.results_dir is not None or not args.smoke):
        out = (args.results_dir or RESULTS) / "review_loop.json"
    if out is not None:  # the replay's figures, before the slower speed runs
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    report["speed_calibration"] = speed_calibration(judge, judged, rows, 1000 if args.smoke else 10000)
    report["speed_dashboard"] = speed_dashboard(args.database, judged, rows, 5000 if args.smoke else 100000)
    text = json.dumps(report, indent=1)
    print(text)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
