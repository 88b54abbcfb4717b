"""Loading user-editable YAML files (emotion models, guidelines) into pydantic models.

Every problem becomes one :class:`~emoethics.errors.ConfigError` line naming the file, the place
and what is wrong: unreadable bytes, invalid YAML (with line and column), a missing or bad field.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .config import data_dir
from .errors import ConfigError

__all__ = ["data_dir", "builtin_names", "load_named"]

M = TypeVar("M", bound=BaseModel)


#: Named files that plugins add to a folder of built-ins (:func:`register_named`).
_registered: dict[Path, dict[str, Path]] = {}


def register_named(folder: Path, name: str, path: Path) -> None:
    """Make ``name`` load ``path`` wherever the built-ins of ``folder`` are loaded by name (a
    plugin's guideline set or emotion model)."""
    if not Path(path).is_file():
        raise ConfigError(f"no file {path} to register as '{name}'")
    _registered.setdefault(folder, {})[name] = Path(path)


def builtin_names(folder: Path) -> list[str]:
    """Names of the YAML files shipped in ``folder``, and of those plugins registered for it."""
    return sorted({p.stem for p in folder.glob("*.yaml")} | set(_registered.get(folder, {})))


def load_named(key: str, folder: Path, cls: type[M], what: str) -> M:
    """A built-in YAML file of ``folder`` by name, or a user's file by path, validated as ``cls``
    (cached until the file changes)."""
    builtins = builtin_names(folder)
    extra = _registered.get(folder, {})
    path = extra[key] if key in extra else folder / f"{key}.yaml" if key in builtins else Path(key).expanduser()
    if not path.is_file():
        raise ConfigError(f"unknown {what} '{key}': not a built-in ({', '.join(builtins)}) and no such file")
    return _load_cached(path.resolve(), path.stat().st_mtime, cls, what)  # type: ignore[return-value]


@lru_cache(maxsize=64)
def _load_cached(path: Path, mtime: float, cls: type[BaseModel], what: str) -> BaseModel:
    return load_yaml_model(path, cls, what)


def load_yaml_model(path: Path, cls: type[M], what: str) -> M:
    """Parse ``path`` as YAML and validate it as ``cls``; ``what`` names the kind of file."""
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{what} file {path}: not valid UTF-8 ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise ConfigError(f"{what} file {path}: cannot read ({e.strerror})") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{what} file {path}: invalid YAML{at}: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} file {path}: expected a mapping at the top level")
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        more = f" (and {len(e.errors()) - 1} more problems)" if len(e.errors()) > 1 else ""
        raise ConfigError(f"{what} file {path}: field '{field}': {msg}{more}") from None
