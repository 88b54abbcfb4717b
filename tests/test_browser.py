"""The review pages in a real headless Chromium (Debian's package, driven by Playwright): a
reviewer resolves a queued case with the keyboard alone and the feedback row is in the database;
a malicious text renders inert; the playground shows a sweep with a chart per level."""

from __future__ import annotations

import os
import shutil

import pytest

from emoethics.store.queue import Case, ReviewStore
from test_web import EVIL

from service_world import make_service, running

CHROMIUM = os.environ.get("EMOETHICS_CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)),
    reason=f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)",
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture()
def service(tmp_path):
    app, url, secret = make_service(tmp_path)
    with running(app) as base:
        yield base, url, secret


def sign_in(page, base: str, secret: str) -> None:
    page.goto(f"{base}/review")
    assert "/login" in page.url
    page.wait_for_function("document.activeElement && document.activeElement.id === 'key'")  # autofocus
    page.keyboard.type(secret)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/review")


def test_a_reviewer_resolves_a_case_with_the_keyboard(browser, service):
    base, url, secret = service
    store = ReviewStore(url=url)
    c = store.enqueue(
        Case(
            kind="unresolved-debate",
            text="You never listen to anyone.",
            context="workplace",
            verdict="review",
            confidence=0.45,
            rationale="Blunt, maybe disrespectful.",
            guidelines=["respect"],
            detail={
                "debate": [
                    {
                        "round": 1,
                        "contentiousness": 0.9,
                        "argument": "It is an insult.",
                        "proposed": "rectify",
                        "response": "It is blunt, not abusive.",
                        "verdict": "review",
                        "agreed": False,
                    }
                ]
            },
        )
    )
    page = browser.new_context().new_page()
    try:
        sign_in(page, base, secret)
        page.get_by_role("link", name=c.id).focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/review/{c.id}")
        assert page.locator("#case-text").inner_text() == c.text
        assert page.locator("svg[role=img]").count() == 1  # the emotion profile chart
        assert "It is an insult." in page.locator(".debate").inner_text()
        # the first decision has the focus: arrow keys move through the choices
        assert page.evaluate("document.activeElement.value") == "accept"
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert page.evaluate("document.activeElement.value") == "relabel"
        page.keyboard.press("Tab")  # to the label list
        page.keyboard.press("ArrowDown")  # "allow"
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")  # the note
        page.keyboard.type("blunt but fine")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # record decision
        page.wait_for_url(f"{base}/review?done=1")
        assert "Decision recorded" in page.content()
    finally:
        page.context.close()
    [fb] = ReviewStore(url=url).feedback(c.id)
    assert (fb.decision, fb.label, fb.note, fb.reviewer) == ("relabel", "allow", "blunt but fine", "tester")


def test_a_malicious_text_renders_inert(browser, service):
    base, url, secret = service
    c = ReviewStore(url=url).enqueue(
        Case(kind="low-confidence", text=EVIL, context="personal", verdict="review", confidence=0.3, rationale=EVIL)
    )
    page = browser.new_context().new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        sign_in(page, base, secret)
        assert page.evaluate("window.__pwned") is None
        page.goto(f"{base}/review/{c.id}")
        assert page.locator("#case-text").inner_text() == EVIL  # shown as text
        assert page.evaluate("window.__pwned") is None and dialogs == []
        assert page.locator("main script").count() == 0 and page.locator("main img").count() == 0
    finally:
        page.context.close()


def test_the_playground_sweeps_a_spectrum_with_a_chart_per_level(browser, service):
    base, _, secret = service
    page = browser.new_context().new_page()
    try:
        sign_in(page, base, secret)
        page.goto(f"{base}/playground")
        page.fill("#text", "The meeting moved to Friday.")
        page.select_option("#spectrum", "sadness-joy")
        page.click("button[type=submit] >> text=Analyse and sweep")
        page.wait_for_selector("article.level", timeout=60_000)  # the script reloads when the job ends
        levels = page.locator("article.level")
        assert levels.count() >= 5
        assert page.locator("article.level svg[role=img]").count() == levels.count()
        assert page.locator("figure.chart").count() == levels.count() + 1  # and the text as written
    finally:
        page.context.close()


def test_the_api_docs_render_without_any_outside_resource(browser, service):
    base, _, _ = service
    page = browser.new_context().new_page()
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    try:
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        assert page.locator(".opblock").count() >= 12 and outside == []
    finally:
        page.context.close()


HARMFUL = [
    "You are a worthless idiot and everyone here hates you.",
    "I will find where you live and hurt you.",
    "People like you are vermin and should be wiped out.",
    "Shut up, you pathetic moron.",
    "Send me nudes or I'll tell everyone your secret.",
]
HARMLESS = [
    "Thanks for the quick reply, the invoice is attached.",
    "Could we move the meeting to Thursday afternoon?",
    "I loved the photos from your trip, the mountains look amazing.",
    "The parcel arrived today, everything is in order.",
    "Please remind me to water the plants tomorrow.",
]


def _queue_traffic(url: str, n: int = 50) -> list[tuple[str, bool]]:
    """``n`` judged texts queued as review cases (and in the verdict log); (case id, harmful)."""
    from emoethics.session import Session
    from emoethics.store.queue import dump
    from emoethics.store.records import Records

    from service_world import sensor

    judge = Session(critic=sensor()).make_judge("default", use_model=False)
    texts = [(t, True) for t in HARMFUL] + [(t, False) for t in HARMLESS]
    items = [(f"{texts[i % len(texts)][0]} (#{i})", texts[i % len(texts)][1]) for i in range(n)]
    judged = judge.judge_many([t for t, _ in items], "workplace")
    store, records = ReviewStore(url=url), Records(url)
    out = []
    for (text, harmful), j in zip(items, judged, strict=True):
        c = store.enqueue(
            Case(
                kind="proxy-review",
                text=text,
                context="workplace",
                verdict=j.verdict,
                confidence=j.confidence,
                rationale=j.rationale,
                guidelines=[h.guideline for h in j.violations],
                detail={"judgement": dump(j)},
            )
        )
        records.record_verdicts([j.record("proxy", case_id=c.id, action="observed", mode="observe")])
        out.append((c.id, harmful))
    return out


def _shot(page, name: str, full_page: bool = True) -> None:
    """A screenshot for docs/service.md when $EMOETHICS_SCREENSHOTS names a folder."""
    folder = os.environ.get("EMOETHICS_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=full_page)


def test_a_team_reviews_fifty_cases_calibrates_shadows_and_activates_with_the_keyboard(browser, service):
    from emoethics.store.records import Records

    base, url, secret = service
    cases = dict(_queue_traffic(url))
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    try:
        sign_in(page, base, secret)
        first = ReviewStore(url=url).pending(1)[0]
        page.get_by_role("link", name=first.id).focus()
        page.keyboard.press("Enter")
        for _ in range(50):
            page.wait_for_selector("#case-id")
            case_id = page.locator("#case-id").inner_text()
            verdict = ReviewStore(url=url).case(case_id).verdict
            harmful = cases[case_id]
            assert page.evaluate("document.activeElement.value") == "accept"
            if (verdict != "allow") == harmful:
                page.keyboard.press("Space")  # accept
                for _ in range(5):  # past the label, rule, corrected rule and note to the button
                    page.keyboard.press("Tab")
            else:
                page.keyboard.press("ArrowRight")
                page.keyboard.press("ArrowRight")  # relabel
                page.keyboard.press("Tab")
                for _ in range(4 if harmful else 1):  # block or allow
                    page.keyboard.press("ArrowDown")
                for _ in range(4):
                    page.keyboard.press("Tab")
            with page.expect_navigation():
                page.keyboard.press("Enter")
        assert page.url == f"{base}/review?done=1"
        assert len({f.case_id for f in ReviewStore(url=url).feedback()}) == 50

        page.goto(f"{base}/review/dashboard")
        assert page.locator("#total").inner_text() == "50"
        figures = page.locator("figure.dash")
        assert figures.count() == 7
        revealed = page.locator("figure.dash", has_text="What reviews revealed").locator("figcaption").inner_text()
        assert "workplace: false positives" in revealed
        assert "would have rewritten or blocked" in page.content()
        _shot(page, "review-dashboard")

        page.get_by_role("link", name="Rulebooks").first.click()
        page.wait_for_url(f"{base}/review/rulebooks")
        page.locator("#max_fpr").focus()
        page.keyboard.press("Control+A")
        page.keyboard.type("0.05")
        page.keyboard.press("Enter")
        page.wait_for_selector("#message")
        message = page.locator("#message").inner_text()
        assert message.startswith("Stored rulebook-v1@") and "false positives" in message
        book = Records(url).rulebooks()[-1]["id"]
        _shot(page, "review-calibrated")

        page.locator("button.shadow").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#message >> text=Shadow:")
        assert f"from {book}" in page.locator("#message").inner_text()

        page.locator("button.activate").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#message >> text=In force:")
        assert page.locator("#active").inner_text() == book
        assert Records(url).active_rulebook() == book
        _shot(page, "review-activated")

        page.goto(f"{base}/review/dashboard")
        assert "would get another verdict" in page.locator("#shadow-summary").inner_text()
        assert page.locator("#total").inner_text() == "50"  # the texts judged again are no traffic
        page.locator("#h-shadow").scroll_into_view_if_needed()
        _shot(page, "review-shadow", full_page=False)
    finally:
        page.context.close()

    # 200% zoom: half the CSS pixels across, twice the device pixels; nothing runs off the side
    zoomed = browser.new_context(viewport={"width": 640, "height": 800}, device_scale_factor=2).new_page()
    try:
        sign_in(zoomed, base, secret)
        for path in ("/review/dashboard", "/review/rulebooks"):
            zoomed.goto(f"{base}{path}")
            assert zoomed.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
            size = zoomed.evaluate("parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")
            assert size >= 16
        _shot(zoomed, "review-dashboard-zoom200")
    finally:
        zoomed.context.close()
