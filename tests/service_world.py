"""A service on a temporary SQLite database with the real emotion sensor and a schema-answering
stand-in for the language model (the loop logic and the HTTP layer are what these tests check;
tests marked slow use the embedded model)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from emoethics.sensors.emotion_sensor import EmotionSensor
from emoethics.service import ServiceConfig, create_app
from emoethics.service.workspace import ServiceWorkspace
from emoethics.store.keys import KeyStore

from fakes import SchemaBackend
from servers import free_port

_sensor: EmotionSensor | None = None


def sensor() -> EmotionSensor:
    global _sensor
    if _sensor is None:
        _sensor = EmotionSensor()
    return _sensor


def make_service(folder: Path | None = None, **config):
    """(app, database url, API key secret)."""
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="emoethics-service-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    url = f"sqlite:///{folder / 'service.db'}"
    llm = SchemaBackend()
    workspace = ServiceWorkspace(
        url=url, generator=llm, judge_backend=llm, adversary=llm, analyzer=sensor(), critic=sensor()
    )
    app = create_app(ServiceConfig(database_url=url, secret_key="test-secret", workspace=workspace, **config))
    _, secret = KeyStore(url).create("tester", "100000/minute")
    return app, url, secret


@contextmanager
def running(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a loopback port in a thread; yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
