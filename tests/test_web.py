"""The review pages without a browser: sign-in, CSRF, escaping, decisions, and the feedback loop
into the next SSHF rulebook version."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from emoethics.ethics.sshf import learn_rulebook
from emoethics.store.queue import Case, ReviewStore
from emoethics.store.records import Records
from test_ethics_logic import G, sshf_world

from service_world import make_service

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> "quoted" & done'


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture()
def world(tmp_path):
    app, url, secret = make_service(tmp_path)
    with TestClient(app) as client:
        yield client, url, secret


def sign_in(client, secret) -> str:
    page = client.get("/login").text
    r = client.post("/login", data={"key": secret, "csrf": csrf_of(page), "next": "/review"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/review"
    return csrf_of(client.get("/review").text)


def test_pages_need_a_signed_in_session(world):
    client, _, secret = world
    r = client.get("/review", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    page = client.get("/login").text
    bad = client.post("/login", data={"key": "wrong", "csrf": csrf_of(page)})
    assert bad.status_code == 401 and "not valid" in bad.text
    # an off-site ``next`` is ignored
    r = client.post(
        "/login", data={"key": secret, "csrf": csrf_of(page), "next": "//evil.example/"}, follow_redirects=False
    )
    assert r.headers["location"] == "/review"


def test_forms_without_the_csrf_token_are_refused(world):
    client, url, secret = world
    case = ReviewStore(url=url).enqueue(
        Case(kind="low-confidence", text="hm", context="personal", verdict="review", confidence=0.2, rationale="?")
    )
    assert client.post("/login", data={"key": secret}).status_code == 403  # no token
    sign_in(client, secret)
    r = client.post(f"/review/{case.id}", data={"decision": "accept", "csrf": "forged"})
    assert r.status_code == 403
    assert ReviewStore(url=url).feedback() == []


def test_user_text_is_escaped_everywhere(world):
    client, url, secret = world
    case = ReviewStore(url=url).enqueue(
        Case(
            kind="unresolved-debate",
            text=EVIL,
            context="personal",
            verdict="review",
            confidence=0.4,
            rationale=EVIL,
            guidelines=[EVIL],
            detail={
                "debate": [
                    {
                        "round": 1,
                        "contentiousness": 0.9,
                        "argument": EVIL,
                        "proposed": "block",
                        "response": EVIL,
                        "verdict": "review",
                        "agreed": False,
                    }
                ]
            },
        )
    )
    sign_in(client, secret)
    for path in ("/review", f"/review/{case.id}"):
        r = client.get(path)
        assert "<script>window" not in r.text and "<img src=x" not in r.text
        assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in r.text
        assert "script-src 'self'" in r.headers["content-security-policy"]


def test_a_decision_in_the_page_is_stored_and_leads_to_the_next_case(world):
    client, url, secret = world
    store = ReviewStore(url=url)
    a = store.enqueue(
        Case(
            kind="low-confidence",
            text="first",
            context="personal",
            verdict="review",
            confidence=0.3,
            rationale="unsure",
        )
    )
    b = store.enqueue(
        Case(
            kind="low-confidence",
            text="second",
            context="personal",
            verdict="review",
            confidence=0.3,
            rationale="unsure",
        )
    )
    sign_in(client, secret)
    page = client.get(f"/review/{a.id}").text
    assert "first" in page and "Emotion profile" in page  # measured on the fly: no profile was stored
    r = client.post(f"/review/{a.id}", data={"decision": "relabel", "label": "nonsense", "csrf": csrf_of(page)})
    assert r.status_code == 422 and "choose the right label" in r.text
    r = client.post(
        f"/review/{a.id}",
        data={"decision": "relabel", "label": "allow", "note": "fine", "csrf": csrf_of(page)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/review/{b.id}"
    [fb] = store.feedback(a.id)
    assert (fb.decision, fb.label, fb.reviewer, fb.note) == ("relabel", "allow", "tester", "fine")
    assert [c.id for c in store.pending()] == [b.id]


def test_feedback_given_in_the_page_changes_the_next_rulebook_version(world):
    client, url, secret = world
    store = ReviewStore(url=url)
    gen, an = sshf_world()
    v1 = learn_rulebook(G, ["personal"], gen, an, only=["respect"], pairs=4, store=store)
    [sample] = [c for c in store.pending() if c.kind == "sshf-sample"]
    example = next(e for e in v1.examples if e.id == sample.detail["example_id"])
    flipped = "compliant" if example.side == "violating" else "violating"
    csrf = sign_in(client, secret)
    page = client.get(f"/review/{sample.id}").text
    assert 'value="violating"' in page and 'value="compliant"' in page  # labels of a rulebook example
    r = client.post(
        f"/review/{sample.id}", data={"decision": "relabel", "label": flipped, "csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    [fb] = store.feedback(sample.id)
    v2 = learn_rulebook(G, ["personal"], gen, an, only=["respect"], pairs=4, previous=v1, store=store)
    assert fb.id in v2.feedback_used and fb.id not in v1.feedback_used
    again = next(e for e in v2.examples if e.id == example.id)
    assert again.side == flipped and again.source == f"human:{fb.id}"
    assert [b["feedback_used"] for b in Records(url).rulebooks()] == [[], v2.feedback_used]
