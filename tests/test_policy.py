"""The one verdict policy (``ethics/policy.py``) that compose, chat and the proxy follow."""

from __future__ import annotations

import pytest

from emoethics.ethics.policy import COMPOSE_POLICY, EmpathyRules, VerdictPolicy, action_for, care, distress_of
from emoethics.proxy import Policy

ENFORCE = VerdictPolicy()


@pytest.mark.parametrize(
    ("verdict", "policy", "rewrite", "action"),
    [
        ("allow", ENFORCE, True, "pass"),
        ("review", ENFORCE, True, "queue"),
        ("review", VerdictPolicy(queue_reviews=False), True, "pass"),
        ("rectify", ENFORCE, True, "rectify"),
        ("rectify", ENFORCE, False, "block"),
        ("block", ENFORCE, True, "block"),
        ("block", COMPOSE_POLICY, True, "rectify"),
        ("block", COMPOSE_POLICY, False, "block"),
        ("block", VerdictPolicy(mode="observe"), True, "observe"),
        ("allow", VerdictPolicy(mode="observe"), True, "observe"),
    ],
)
def test_each_verdict_has_one_action_under_each_policy(verdict, policy, rewrite, action):
    assert action_for(verdict, policy, rewrite=rewrite) == action


def test_the_proxy_policy_is_the_shared_verdict_policy_with_its_own_keys_beside_it():
    p = Policy(mode="observe", empathy=True, empathy_rules={"distress": 0.8})
    assert isinstance(p, VerdictPolicy) and action_for("block", p) == "observe"
    assert p.empathy_rules.distress == 0.8 and p.empathy_rules.harsh == 0.6


@pytest.fixture(scope="module")
def judge():
    from emoethics.api import make_judge

    return make_judge(use_model=False)


def test_distress_is_sadness_or_fear_at_the_rules_level_or_beyond(judge):
    sad = judge.judge("My father died last night and I can't stop crying, I feel so alone.", "personal").profile
    sadness = sad.reading("sadness-joy").intensity
    assert sadness < 0
    assert "(sadness," in distress_of(sad, EmpathyRules(distress=-sadness))
    if sadness > -0.95:
        assert "(sadness," not in distress_of(sad, EmpathyRules(distress=-sadness + 0.05))


def test_a_harsh_reply_to_a_distressed_user_is_reviewed_and_an_unviolating_one_never_refused(judge):
    harsh = judge.judge("Stop whining. Nobody cares, deal with it yourself, you idiot.", "personal")
    reasons: list[str] = []
    assert care("allow", harsh, "grief (sadness, -0.9)", EmpathyRules(harsh=0.0), reasons) == "review"
    assert "harsh for a user in distress" in reasons[0]
    kind = judge.judge("I am so sorry for your loss. I am here with you.", "personal")
    reasons = []
    assert care("rectify", kind, "grief (sadness, -0.9)", EmpathyRules(harsh=1.0), reasons) == "review"
    assert "violates no guideline" in reasons[-1]
    assert care("rectify", kind, "", EmpathyRules(), []) == "rectify"
