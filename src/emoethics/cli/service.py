"""Commands of the service: ``serve`` (the HTTP API and the review pages), ``keys`` (API keys) and
``runs`` (the run log)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..config import Settings
from ..errors import ConfigError
from ..store import db
from ..store.keys import KeyStore
from .app import JsonOpt, app, err, out, print_json, with_model_options

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
@with_model_options
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; beyond loopback needs --public.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    public: Annotated[bool, typer.Option("--public", help="Allow listening beyond loopback (use TLS).")] = False,
    max_body: Annotated[int, typer.Option(min=1024, help="Largest request body in bytes.")] = 256 * 1024,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Language-model operations at a time (1 for the embedded model).")
    ] = 1,
    settings: Settings = None,  # type: ignore[assignment]
) -> None:
    """Run the HTTP API (/v1, docs at /docs) and the review web page (/review) with uvicorn."""
    import uvicorn

    from ..service import ServiceConfig, create_app

    if host not in LOOPBACK and not public:
        raise ConfigError(f"--host {host} would listen beyond loopback; add --public if you mean it")
    url = db.database_url()
    keys = KeyStore(url)
    if not keys.list():
        key, secret = keys.create("owner")
        err.print(
            f"No API key existed, so one was made ([bold]{key.id}[/], 'owner'). Keep it; it is shown once:\n  {secret}",
            highlight=False,
        )
    app_ = create_app(
        ServiceConfig(
            database_url=url,
            max_body_bytes=max_body,
            concurrency=concurrency,
            settings=settings,
            https_only_cookies=public,
        )
    )
    err.print(
        f"emoethics on http://{host}:{port}/  (review page /review, API docs /docs, database {db.describe(url)})",
        highlight=False,
    )
    uvicorn.run(app_, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)


keys_app = typer.Typer(help="API keys of the HTTP service.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    rate_limit: Annotated[str, typer.Option(help="Requests allowed, e.g. 60/minute or 5/second.")] = "60/minute",
    json_out: JsonOpt = False,
) -> None:
    """Make a key. The secret is printed once; only its digest is stored."""
    key, secret = KeyStore().create(name, rate_limit)
    if json_out:
        print_json({**key.model_dump(mode="json"), "key": secret})
        return
    out.print(f"key [bold]{key.id}[/] for {key.name} ({key.rate_limit}):\n{secret}", highlight=False)


@keys_app.command("list")
def keys_list(json_out: JsonOpt = False) -> None:
    """The keys (never their secrets)."""
    keys = KeyStore().list()
    if json_out:
        print_json([k.model_dump(mode="json") for k in keys])
        return
    for k in keys:
        out.print(
            f"{k.id}  {k.name}  {k.rate_limit}  {k.created:%Y-%m-%d}{'  revoked' if k.revoked else ''}", highlight=False
        )
    if not keys:
        out.print("no keys; make one with `emoethics keys create NAME`")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from keys list).")]) -> None:
    """Revoke a key at once."""
    k = KeyStore().revoke(key_id)
    out.print(f"revoked {k.id} ({k.name})")


@app.command()
def runs(
    kind: Annotated[str | None, typer.Option(help="analyze, rewrite, judge, review, rectify, sweep …")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    json_out: JsonOpt = False,
) -> None:
    """The run log: recent operations with their inputs, model ids, usage and time."""
    from ..store.records import Records

    rows = Records().runs(kind, limit)
    if json_out:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    for r in rows:
        text = str(r.inputs.get("text", ""))[:60]
        out.print(
            f"{r.created:%Y-%m-%d %H:%M:%S} {r.id} {r.kind:<9} {r.status:<5} {r.seconds:6.1f}s "
            f"calls {r.usage.get('calls', 0):>2}  {text!r}",
            highlight=False,
        )
    if not rows:
        out.print("no runs recorded yet")
