"""Several proxy processes on one port, sharing the store: ``emoethics proxy --workers N``.

uvicorn starts ``N`` worker processes that accept on the same socket; each builds its own
application (models, judge batcher) with :func:`app_from_environment` from the settings the parent
put in ``$EMOETHICS_PROXY_WORKER``. What must hold across workers lives in the database: API keys,
rate limits (:mod:`emoethics.store.rates`), runs and review cases. The upstream's credentials
travel in that variable too, never on a command line.
"""

from __future__ import annotations

import json
import os

from fastapi import FastAPI

from ..config import Settings
from .app import create_proxy_app
from .settings import ProxyConfig
from .workspace import ProxyWorkspace

WORKER_ENV = "EMOETHICS_PROXY_WORKER"
#: The import string uvicorn's workers load (a factory: called once in each worker).
FACTORY = "emoethics.proxy.workers:app_from_environment"


def worker_environment(config: ProxyConfig, settings: Settings) -> str:
    """What a worker needs to build the same proxy, as the value of ``$EMOETHICS_PROXY_WORKER``."""
    auth = config.upstream_auth.get_secret_value() if config.upstream_auth is not None else None
    return json.dumps(
        {"config": config.model_dump(mode="json"), "upstream_auth": auth, "settings": settings.model_dump(mode="json")}
    )


def app_from_environment() -> FastAPI:
    """The proxy application of one worker, from ``$EMOETHICS_PROXY_WORKER``."""
    data = json.loads(os.environ[WORKER_ENV])
    config = ProxyConfig(**data["config"], upstream_auth=data["upstream_auth"])
    workspace = ProxyWorkspace(
        Settings(**data["settings"]),
        url=config.database_url,
        guidelines=config.guidelines,
        rulebook=config.rulebook,
        shadow=config.shadow,
        judge_model=config.policy.judge_model != "never",
    )
    return create_proxy_app(config, workspace=workspace)
