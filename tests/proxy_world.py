"""A proxy on a temporary database with the real emotion sensor and CPU judge, in front of a
scripted upstream; the judge and rectifier models are scripted stand-ins where a test needs them
(the loop logic and the HTTP layer are what these tests check; test_proxy_model uses a real model)."""

from __future__ import annotations

import json
from pathlib import Path

from emoethics.proxy import Policy, ProxyConfig, ProxyWorkspace, create_proxy_app
from emoethics.store.keys import KeyStore

from fakes import ScriptedBackend
from service_world import sensor

ABUSE = "You are a worthless idiot and I hate you. Shut up and never ask me again."
POLITE = "I see it differently. Let us go through the question together."


def scripted_judge(violation_words: tuple[str, ...] = ("idiot", "hate"), guideline: str = "respect") -> ScriptedBackend:
    """A judge model that names ``guideline`` for texts with ``violation_words`` and nothing otherwise."""

    def reply(messages: list[dict]) -> str:
        text = messages[-1]["content"].rsplit("<<<", 1)[-1]
        hit = next((w for w in violation_words if w in text.lower()), None)
        return json.dumps(
            {
                "rationale": "insults the reader" if hit else "nothing wrong",
                "wrong": bool(hit),
                "violations": [{"guideline": guideline, "quote": hit}] if hit else [],
                "behaviour": "neutral",
            }
        )

    return ScriptedBackend(reply)


def scripted_rectifier(text: str = POLITE) -> ScriptedBackend:
    return ScriptedBackend(lambda _m: json.dumps({"text": text}))


def make_proxy(
    folder: Path, upstream_url: str, *, judge=None, rectifier=None, key_env: str = "UPSTREAM_TEST_KEY", **config
):
    """(app, database url, client key secret, library)."""
    url = f"sqlite:///{folder / 'proxy.db'}"
    policy = Policy(**config.pop("policy", {}))
    library = ProxyWorkspace(
        url=url,
        analyzer=sensor(),
        judge_backend=judge or scripted_judge(),
        rectifier=rectifier or scripted_rectifier(),
        judge_model=policy.judge_model != "never",
        rulebook=config.get("rulebook"),
        shadow=config.get("shadow"),
    )
    cfg = ProxyConfig(upstream=upstream_url, upstream_key_env=key_env, database_url=url, policy=policy, **config)
    app = create_proxy_app(cfg, workspace=library)
    _, secret = KeyStore(url).create("client", "100000/minute")
    return app, url, secret, library
