"""The ``proxy`` command: an OpenAI-compatible server in front of any upstream that judges every reply."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ..config import Settings, config_section
from ..errors import ConfigError
from ..store import db
from ..store.keys import KeyStore
from .app import app, err, with_model_options

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
@with_model_options
def proxy(
    upstream: Annotated[
        str | None,
        typer.Option(
            help="OpenAI-compatible base URL to forward to, e.g. http://127.0.0.1:8080/v1 (default: embedded model).",
            rich_help_panel="Proxy",
        ),
    ] = None,
    upstream_key_env: Annotated[
        str | None,
        typer.Option(
            help="Environment variable holding the upstream's API key; default OPENAI_API_KEY.", rich_help_panel="Proxy"
        ),
    ] = None,
    upstream_timeout: Annotated[
        float | None, typer.Option(help="Seconds to wait for the upstream; default 120.", rich_help_panel="Proxy")
    ] = None,
    context: Annotated[
        str | None,
        typer.Option(
            help="Guardrail context when the request names none (X-Emoethics-Context).", rich_help_panel="Proxy"
        ),
    ] = None,
    culture: Annotated[
        str | None, typer.Option(help="Culture variant of the context.", rich_help_panel="Proxy")
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(
            help="enforce (pass, queue, rectify, block) or observe (judge and log only); default enforce.",
            rich_help_panel="Proxy",
        ),
    ] = None,
    empathy: Annotated[
        bool | None,
        typer.Option(
            "--empathy/--no-empathy",
            help="Read the user's last message; tell the upstream about strong distress.",
            rich_help_panel="Proxy",
        ),
    ] = None,
    stream_policy: Annotated[
        str | None,
        typer.Option(
            help="hold (judge the whole reply, then stream) or sentence (release judged sentences); default hold.",
            rich_help_panel="Proxy",
        ),
    ] = None,
    judge_model: Annotated[
        str | None,
        typer.Option(
            help="When the judge model is called: unsure (the fast path is not), always, never; default unsure.",
            rich_help_panel="Proxy",
        ),
    ] = None,
    no_log_content: Annotated[
        bool,
        typer.Option(
            "--no-log-content",
            help="Keep only verdicts in the run log, no texts (and queue no review cases).",
            rich_help_panel="Proxy",
        ),
    ] = False,
    guidelines: Annotated[
        str | None, typer.Option(help="Guideline set: default or a YAML file.", rich_help_panel="Proxy")
    ] = None,
    rulebook: Annotated[
        str | None,
        typer.Option(
            help="A rulebook file, id, 'latest' or 'active' (the one 'sshf activate' put in force).",
            rich_help_panel="Proxy",
        ),
    ] = None,
    shadow: Annotated[
        str | None,
        typer.Option(
            help="A candidate rulebook judged beside the one in force: the dashboard shows where they differ.",
            rich_help_panel="Proxy",
        ),
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on; beyond loopback needs --public.")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port; default 8100.")] = None,
    public: Annotated[bool, typer.Option("--public", help="Allow listening beyond loopback (use TLS).")] = False,
    max_body: Annotated[int | None, typer.Option(min=1024, help="Largest request body in bytes.")] = None,
    capacity: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Chat requests in progress at once; one more gets a 503 with Retry-After; default 32.",
            rich_help_panel="Proxy",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Proxy processes on the port, sharing the database (keys, rate limits, runs).",
            rich_help_panel="Proxy",
        ),
    ] = 1,
    settings: Settings = None,  # type: ignore[assignment]  # filled by @with_model_options
) -> None:
    """Run an OpenAI-compatible proxy (/v1/chat/completions, /v1/models) that judges every reply
    against the guardrails of a context and passes, queues, rectifies or blocks it. Clients use an
    emoethics key (`emoethics keys create`) as their api_key; the upstream gets its own key. The
    --backend/--base-url/--model options choose the judge and rectifier models."""
    import uvicorn

    from ..ethics.guidelines import load_guidelines
    from ..proxy import ProxyWorkspace, create_proxy_app
    from ..proxy.settings import proxy_settings
    from ..proxy.workers import FACTORY, WORKER_ENV, worker_environment

    config, server = proxy_settings(
        config_section("proxy"),
        {
            "upstream": upstream,
            "upstream_key_env": upstream_key_env,
            "upstream_timeout": upstream_timeout,
            "context": context,
            "culture": culture,
            "mode": mode,
            "empathy": empathy,
            "stream_policy": stream_policy,
            "judge_model": judge_model,
            "log_content": False if no_log_content else None,
            "guidelines": guidelines,
            "rulebook": rulebook,
            "shadow": shadow,
            "max_body_bytes": max_body,
            "capacity": capacity,
            "host": host,
            "port": port,
            "public": True if public else None,
        },
    )
    host_, port_ = str(server.get("host", "127.0.0.1")), int(server.get("port", 8100))
    if host_ not in LOOPBACK and not server.get("public"):
        raise ConfigError(f"--host {host_} would listen beyond loopback; add --public if you mean it")
    url = config.database_url or db.database_url()
    keys = KeyStore(url)
    if not keys.list():
        key, secret = keys.create("owner")
        err.print(
            f"No API key existed, so one was made ([bold]{key.id}[/], 'owner'). Clients use it as their "
            f"api_key; it is shown once:\n  {secret}",
            highlight=False,
        )
    config = config.model_copy(update={"database_url": url})
    target = config.upstream or f"the embedded model ({settings.generator.describe()})"
    context_name = load_guidelines(config.guidelines).guardrail(config.policy.context)
    err.print(
        f"emoethics proxy on http://{host_}:{port_}/v1 → {target}; mode {config.policy.mode}, streaming "
        f"{config.stream_policy}, context {context_name.context}, database {db.describe(url)}"
        + (f", {workers} workers" if workers > 1 else ""),
        highlight=False,
    )
    if workers > 1:
        os.environ[WORKER_ENV] = worker_environment(config, settings)
        share = str(max(1, (os.cpu_count() or 1) // workers))  # threads that spin-wait must not share cores
        os.environ.setdefault("EMOETHICS_ENCODER_THREADS", share)
        os.environ.setdefault("EMOETHICS_THREADS", share)
        uvicorn.run(FACTORY, factory=True, workers=workers, host=host_, port=port_, log_level="warning")
        return
    workspace = ProxyWorkspace(
        settings,
        url=url,
        guidelines=config.guidelines,
        rulebook=config.rulebook,
        shadow=config.shadow,
        judge_model=config.policy.judge_model != "never",
    )
    app_ = create_proxy_app(config, workspace=workspace)
    uvicorn.run(app_, host=host_, port=port_, log_level="warning", timeout_graceful_shutdown=5)
