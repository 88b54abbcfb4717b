"""Role settings from file, environment and explicit overrides."""

from pathlib import Path

import pytest

from emoethics.config import load_settings
from emoethics.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for k in (
        "EMOETHICS_BACKEND",
        "EMOETHICS_BASE_URL",
        "EMOETHICS_MODEL",
        "EMOETHICS_TIMEOUT",
        "EMOETHICS_CRITIC_MODEL",
        "EMOETHICS_CRITIC_BACKEND",
        "EMOETHICS_NO_CACHE",
    ):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("EMOETHICS_CONFIG", str(tmp_path / "none.toml"))


def test_defaults_local_model_and_sensor_critic():
    s = load_settings()
    assert s.generator.backend == "local" and s.spec("analyzer") == s.generator and s.cache
    assert s.spec("critic").backend == "sensor" and s.llm_spec("critic") == s.generator


def test_sensor_cannot_generate():
    with pytest.raises(ConfigError, match="cannot write text"):
        load_settings({"generator": {"backend": "sensor"}})
    s = load_settings({"critic": {"backend": "ensemble"}, "analyzer": {"backend": "sensor"}})
    assert s.spec("critic").backend == "ensemble" and s.spec("analyzer").backend == "sensor"


def test_file_env_and_overrides_in_priority_order(monkeypatch, tmp_path: Path):
    f = tmp_path / "c.toml"
    f.write_text(
        'cache = false\n[generator]\nbackend = "openai"\nmodel = "from-file"\n'
        'base_url = "http://127.0.0.1:1/v1"\n[critic]\nbackend = "local"\n'
    )
    monkeypatch.setenv("EMOETHICS_CONFIG", str(f))
    s = load_settings()
    assert (s.generator.backend, s.generator.model, s.cache) == ("openai", "from-file", False)
    assert s.spec("critic").backend == "local" and s.spec("adversary") == s.generator
    monkeypatch.setenv("EMOETHICS_MODEL", "from-env")
    assert load_settings().generator.model == "from-env"
    s = load_settings({"generator": {"model": "from-flag"}}, no_cache=False)
    assert s.generator.model == "from-flag" and s.cache


def test_base_url_implies_openai_and_critic_inherits_unless_told():
    s = load_settings(
        {"generator": {"base_url": "http://127.0.0.1:8000/v1", "model": "m"}, "critic": {"model": "other"}}
    )
    assert s.generator.backend == "openai"
    c = s.spec("critic")
    assert (c.backend, c.base_url, c.model) == ("openai", "http://127.0.0.1:8000/v1", "other")


@pytest.mark.parametrize(
    "content, message",
    [
        ("[generator\n", "config file"),
        ("colour = 1\n", "unknown keys"),
        ('[generator]\nbackend = "openai"\n', "needs a model name"),
    ],
)
def test_bad_config_files(monkeypatch, tmp_path: Path, content, message):
    f = tmp_path / "c.toml"
    f.write_text(content)
    monkeypatch.setenv("EMOETHICS_CONFIG", str(f))
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_a_config_file_naming_an_unknown_backend_fails_when_the_session_starts(monkeypatch, tmp_path: Path):
    """Backend names live in one registry (the session's, where plugins add theirs): the file is
    read, and the session that would use the name refuses it in one line."""
    from emoethics import Session

    f = tmp_path / "c.toml"
    f.write_text('[generator]\nbackend = "magic"\n')
    monkeypatch.setenv("EMOETHICS_CONFIG", str(f))
    with pytest.raises(ConfigError, match=r"generator: unknown backend 'magic' \(known: ensemble, local, openai"):
        Session(load_settings())
