"""Which model plays which role.

emoethics uses collaborating models (docs/specification.md section 2): a ``generator`` that writes, a
``critic`` that measures the emotion a text actually expresses, a ``judge`` that assesses
behaviour against ethical guidelines (DIKE) and an ``adversary`` that challenges its verdicts
(ERIS). Each role is a :class:`BackendSpec`. Settings come from, in increasing priority:

1. a TOML file (``$EMOETHICS_CONFIG`` or ``<user config dir>/emoethics/config.toml``)::

       cache = true
       [generator]
       backend = "openai"
       base_url = "http://127.0.0.1:8000/v1"
       model = "qwen2.5-7b-instruct"
       [critic]
       backend = "local"

2. environment variables: ``EMOETHICS_BACKEND``, ``EMOETHICS_BASE_URL``, ``EMOETHICS_MODEL``,
   ``EMOETHICS_TIMEOUT`` for every role, and ``EMOETHICS_<ROLE>_BACKEND`` (``_BASE_URL``,
   ``_MODEL``, ``_TIMEOUT``) for one role; ``EMOETHICS_NO_CACHE=1``;
3. explicit arguments (the CLI's ``--backend/--base-url/--model`` and ``--critic-*`` flags).

A role without settings of its own uses the generator's. Every environment variable emoethics
reads is in :data:`ENVIRONMENT` and read here, through :func:`env`; so are the folders it keeps
files in (:func:`cache_dir`, :func:`data_dir`). This module imports nothing else of emoethics but
its errors: every layer may read settings, and settings depend on none of them. The objects the
settings describe are made by :class:`emoethics.session.Session`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from platformdirs import user_cache_dir, user_config_dir, user_data_dir
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError

Role = Literal["generator", "analyzer", "critic", "judge", "adversary"]
ROLES: tuple[Role, ...] = ("generator", "analyzer", "critic", "judge", "adversary")
#: Sections of the config file read by one command (``[proxy]``: ``emoethics proxy``).
SECTIONS = ("proxy",)
#: Backends that are not language models: they can analyse and criticise, not write.
ANALYSER_ONLY = ("sensor", "sensor-fast", "ensemble")
#: Names of language-model backends; a plugin adds its own with ``session.register_backend``.

#: Every environment variable emoethics reads: name -> what it does.
ENVIRONMENT: dict[str, str] = {
    "EMOETHICS_CONFIG": "the settings file (default: <user config dir>/emoethics/config.toml)",
    "EMOETHICS_BACKEND": "backend of every role: local, openai (sensor or ensemble for the analyser)",
    "EMOETHICS_BASE_URL": "OpenAI-compatible server of every role (implies the openai backend)",
    "EMOETHICS_MODEL": "model of every role",
    "EMOETHICS_TIMEOUT": "seconds per server request, every role",
    "EMOETHICS_<ROLE>_BACKEND": "the same for one role (GENERATOR, ANALYZER, CRITIC, JUDGE, ADVERSARY); "
    "also _BASE_URL, _MODEL, _TIMEOUT",
    "EMOETHICS_NO_CACHE": "1: do not use the response cache",
    "EMOETHICS_ENCODER_THREADS": "threads each sentence encoder may use (default: every core; "
    "`proxy --workers N` sets cores / N)",
    "EMOETHICS_API_KEY": "key for the openai backend (else OPENAI_API_KEY; none needed with a base URL)",
    "OPENAI_API_KEY": "key for the openai backend when EMOETHICS_API_KEY is not set",
    "EMOETHICS_CACHE_DIR": "assembled model weights, saved prompt prefixes, the response cache",
    "EMOETHICS_DATA_DIR": "what users make: the database, calibrations, rulebooks, the service secret",
    "EMOETHICS_DATABASE_URL": "the store's database (default: SQLite in the data folder)",
    "EMOETHICS_SECRET_KEY": "the service's session-cookie secret (default: a random one kept in the data folder)",
    "EMOETHICS_MAX_CHARS": "longest text accepted, in characters (default 8000)",
    "EMOETHICS_THREADS": "CPU threads of the embedded model (default: every core)",
    "EMOETHICS_NO_LOG": "1: the CLI does not record its runs in the run log",
    "EMOETHICS_DEBUG": "1: internal errors print their traceback",
    "<proxy --upstream-key-env>": "the proxy's upstream key (default OPENAI_API_KEY): a variable the user names",
    "EMOETHICS_PROXY_WORKER": "set by `proxy --workers N` for its worker processes: their configuration",
    "EMOETHICS_SCREENSHOTS": "tests only: where the browser test saves the screenshots of docs/service.md",
}
#: Prefixes of the variables handed to worker processes (batch jobs on Ray).
FORWARDED_PREFIXES = ("EMOETHICS_", "OPENAI_")


def env(name: str, default: str | None = None) -> str | None:
    """The value of environment variable ``name`` (one of :data:`ENVIRONMENT`), or ``default``."""
    return os.environ.get(name) or default


def env_flag(name: str) -> bool:
    """Whether environment variable ``name`` is set to 1, true or yes."""
    return (os.environ.get(name) or "").lower() in ("1", "true", "yes")


def forwarded_environment() -> dict[str, str]:
    """The variables a worker process needs to see the same settings."""
    return {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIXES)}


def cache_dir() -> Path:
    """Where emoethics keeps assembled weights, saved prompt prefixes and its response cache."""
    return Path(env("EMOETHICS_CACHE_DIR") or user_cache_dir("emoethics"))


def data_dir() -> Path:
    """Where emoethics keeps what users make: calibrations, the review queue, feedback, rulebooks
    (``$EMOETHICS_DATA_DIR`` or the platform's user data directory)."""
    return Path(env("EMOETHICS_DATA_DIR") or user_data_dir("emoethics"))


def max_chars() -> int:
    """The longest text accepted, in characters (a small local model has a 4k-token context)."""
    value = env("EMOETHICS_MAX_CHARS", "8000") or "8000"
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"EMOETHICS_MAX_CHARS must be a whole number, not {value!r}") from None


class BackendSpec(BaseModel):
    """How to reach one model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str = "local"
    model: str | None = None
    base_url: str | None = None
    timeout: float = 120.0
    max_retries: int = 3

    def describe(self) -> str:
        if self.backend in ("local", *ANALYSER_ONLY):
            return f"{self.backend}:{self.model or 'default'}"
        if self.backend == "openai":
            return f"openai:{self.model}@{self.base_url or 'api.openai.com'}"
        return f"{self.backend}:{self.model or 'default'}"


class Settings(BaseModel):
    """Backends per role and cache switch."""

    model_config = ConfigDict(extra="forbid")

    generator: BackendSpec = BackendSpec()
    analyzer: BackendSpec | None = None
    critic: BackendSpec | None = None
    judge: BackendSpec | None = None
    adversary: BackendSpec | None = None
    cache: bool = True

    def spec(self, role: Role) -> BackendSpec:
        """The role's own settings; the critic defaults to the emotion sensor, the others to
        the generator's model."""
        own = getattr(self, role)
        if own is not None:
            return own
        return BackendSpec(backend="sensor") if role == "critic" else self.generator

    def llm_spec(self, role: Role) -> BackendSpec:
        """The language model a role uses (an ensemble's LLM half is the generator's model)."""
        spec = self.spec(role)
        return self.generator if spec.backend in ANALYSER_ONLY else spec


def _config_file() -> Path:
    return Path(env("EMOETHICS_CONFIG") or Path(user_config_dir("emoethics")) / "config.toml")


def _spec_from(values: dict, base: BackendSpec | None, where: str) -> BackendSpec:
    data = (base.model_dump() if base else {}) | {k: v for k, v in values.items() if v is not None}
    if values.get("base_url") and "backend" not in values:
        data["backend"] = "openai"  # a server URL means the openai-compatible backend
    try:
        spec = BackendSpec.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(f"{where}: field '{'.'.join(map(str, err['loc']))}': {err['msg']}") from None
    if spec.backend == "openai" and not spec.model:
        raise ConfigError(f"{where}: the openai backend needs a model name (--model NAME)")
    if spec.backend in ANALYSER_ONLY and where.split()[0] in ("generator", "judge", "adversary"):
        raise ConfigError(
            f"{where}: the {spec.backend} reads emotions but cannot write text; "
            "the generator must be a language model (local or openai)"
        )
    return spec


def _env(role: str | None) -> dict:
    prefix = f"EMOETHICS_{role.upper()}_" if role else "EMOETHICS_"
    out: dict = {}
    for field in ("backend", "model", "base_url", "timeout"):
        v = os.environ.get(prefix + field.upper())
        if v:
            out[field] = v
    return out


def load_settings(overrides: dict[str, dict] | None = None, *, no_cache: bool | None = None) -> Settings:
    """Settings from the config file, the environment and ``overrides`` ({role: {field: value}})."""
    path = _config_file()
    file_data: dict = {}
    if path.is_file():
        try:
            file_data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"config file {path}: {e}") from None
    unknown = set(file_data) - set(ROLES) - {"cache"} - set(SECTIONS)
    if unknown:
        raise ConfigError(f"config file {path}: unknown keys {sorted(unknown)}")
    overrides = overrides or {}
    common = _env(None) | overrides.get("all", {})
    specs: dict[str, BackendSpec | None] = {}
    gen_values = dict(file_data.get("generator", {})) | common | _env("generator") | overrides.get("generator", {})
    specs["generator"] = _spec_from(gen_values, None, "generator settings")
    for role in ROLES[1:]:
        values = dict(file_data.get(role, {})) | _env(role) | overrides.get(role, {})
        values = {k: v for k, v in values.items() if v is not None}
        specs[role] = (
            _spec_from(
                values, None if "backend" in values or "base_url" in values else specs["generator"], f"{role} settings"
            )
            if values
            else None
        )
    cache = bool(file_data.get("cache", True))
    if env_flag("EMOETHICS_NO_CACHE"):
        cache = False
    if no_cache is not None:
        cache = not no_cache
    return Settings.model_validate({"cache": cache, **specs})


def config_section(name: str) -> dict:
    """A command's own section of the config file (e.g. ``[proxy]``), empty when there is none."""
    path = _config_file()
    if not path.is_file():
        return {}
    try:
        section = tomllib.loads(path.read_text(encoding="utf-8")).get(name, {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {path}: {e}") from None
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: [{name}] must be a table")
    return section
