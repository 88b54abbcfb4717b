"""Which model plays which role.

emoethics uses collaborating models (PAPER.md section 3): a ``generator`` that writes, a
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

A role without settings of its own uses the generator's.
"""

from __future__ import annotations

import os
import threading
import tomllib
from pathlib import Path
from typing import Literal

from platformdirs import user_config_dir
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError
from .llm.base import Backend
from .llm.cache import ResponseCache
from .llm.weights import cache_dir

ROLES = ("generator", "analyzer", "critic", "judge", "adversary")
Role = Literal["generator", "analyzer", "critic", "judge", "adversary"]
#: Sections of the config file read by one command (``[proxy]``: ``emoethics proxy``).
SECTIONS = ("proxy",)
#: Backends that are not language models: they can analyse and criticise, not write.
ANALYSER_ONLY = ("sensor", "ensemble")


class BackendSpec(BaseModel):
    """How to reach one model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["local", "openai", "sensor", "ensemble"] = "local"
    model: str | None = None
    base_url: str | None = None
    timeout: float = 120.0
    max_retries: int = 3

    def describe(self) -> str:
        if self.backend in ("local", *ANALYSER_ONLY):
            return f"{self.backend}:{self.model or 'default'}"
        return f"openai:{self.model}@{self.base_url or 'api.openai.com'}"


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
    return Path(os.environ.get("EMOETHICS_CONFIG") or Path(user_config_dir("emoethics")) / "config.toml")


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
        raise ConfigError(f"{where}: the {spec.backend} reads emotions but cannot write text; "
                          "the generator must be a language model (local or openai)")
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
    gen_values = dict(file_data.get("generator", {})) | common | _env("generator") \
        | overrides.get("generator", {})
    specs["generator"] = _spec_from(gen_values, None, "generator settings")
    for role in ROLES[1:]:
        values = dict(file_data.get(role, {})) | _env(role) | overrides.get(role, {})
        values = {k: v for k, v in values.items() if v is not None}
        specs[role] = _spec_from(values, None if "backend" in values or "base_url" in values
                                 else specs["generator"], f"{role} settings") if values else None
    cache = bool(file_data.get("cache", True))
    if os.environ.get("EMOETHICS_NO_CACHE", "").lower() in ("1", "true", "yes"):
        cache = False
    if no_cache is not None:
        cache = not no_cache
    return Settings(cache=cache, **specs)


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


_registry: dict[tuple, Backend] = {}
_registry_lock = threading.Lock()
_caches: dict[Path, ResponseCache] = {}


def response_cache() -> ResponseCache:
    """The shared response cache (``<cache dir>/responses.sqlite``), one per cache directory."""
    path = cache_dir() / "responses.sqlite"
    with _registry_lock:
        if path not in _caches:
            _caches[path] = ResponseCache(path)
        return _caches[path]


def make_backend(spec: BackendSpec, *, cache: bool = True) -> Backend:
    """A new backend for ``spec``."""
    rc = response_cache() if cache else None
    if spec.backend == "local":
        from .llm.local import LocalBackend

        return LocalBackend(spec.model, cache=rc)
    from .llm.openai_backend import OpenAIBackend

    return OpenAIBackend(spec.model or "", base_url=spec.base_url, timeout=spec.timeout,
                         max_retries=spec.max_retries, cache=rc)


def get_backend(role: Role = "generator", settings: Settings | None = None) -> Backend:
    """The language model playing ``role``, created once per role and spec and then reused."""
    settings = settings or load_settings()
    spec = settings.llm_spec(role)
    key = (role, spec, str(cache_dir()) if settings.cache else None)
    with _registry_lock:
        found = _registry.get(key)
    if found is not None:
        return found
    backend = make_backend(spec, cache=settings.cache)
    with _registry_lock:
        return _registry.setdefault(key, backend)
