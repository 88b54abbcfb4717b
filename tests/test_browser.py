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
