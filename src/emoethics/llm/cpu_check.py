"""Checking, once per build and machine, that the installed llama.cpp can decode on this CPU.

A llama.cpp library compiled for another processor (the default ``GGML_NATIVE=ON`` build of
llama-cpp-python, or a wheel from a cache filled on a newer machine) dies with SIGILL the first
time it runs an instruction this CPU refuses, typically in the first batched prompt evaluation. A
signal cannot be caught in the process it kills, so the first use of a build decodes a real prompt
of a few hundred tokens in a child process; if the child dies, the caller gets one line saying
so and how to fix it. A build that passed leaves a marker keyed by its library files and this
CPU, so the check runs once.
"""

from __future__ import annotations

import hashlib
import importlib.util
import platform
import signal
import subprocess
import sys
from pathlib import Path

from ..config import cache_dir
from ..errors import BackendError

#: How to get a build that runs on any x86-64 CPU (AVX2, no AVX-512, no AMX).
PORTABLE_FIX = (
    "reinstall it built for any x86-64 CPU: 'make install' in the emoethics source tree, or "
    "CMAKE_ARGS='-DGGML_NATIVE=OFF' pip install --no-cache-dir --force-reinstall "
    "llama-cpp-python==0.3.36"
)

_PROBE = """
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=1024, n_threads=int(sys.argv[2]), verbose=False)
prompt = " ".join(["Emotions colour how we read a message, and ethics asks what it does to others."] * 18)
out = llm.create_completion(prompt, max_tokens=4, temperature=0.0)
print(out["usage"]["prompt_tokens"])
"""


def build_identity() -> str:
    """A digest of the installed llama.cpp libraries and of this CPU's model and flags."""
    digest = hashlib.sha256()
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError("the local backend needs llama-cpp-python: pip install 'emoethics[local]' (or make install)")
    lib = Path(next(iter(spec.submodule_search_locations))) / "lib"
    for f in sorted(lib.glob("*.so*")) if lib.is_dir() else []:
        if f.is_file() and not f.is_symlink():
            st = f.stat()
            digest.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    digest.update(_cpu_description().encode())
    return digest.hexdigest()[:16]


def _cpu_description() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "flags")):
                return line + platform.machine()
    except OSError:
        pass
    return platform.processor() + platform.machine()


def check_decodes(model_path: Path, n_threads: int, *, timeout: float = 600.0) -> None:
    """Raise :class:`BackendError` unless llama.cpp can decode a prompt of ``model_path`` here.

    Runs a child process the first time for each build, CPU and model file; later calls only look
    at the marker it left.
    """
    st = model_path.stat()
    key = f"{build_identity()}-{hashlib.sha256(f'{model_path}:{st.st_size}'.encode()).hexdigest()[:12]}"
    marker = cache_dir() / "llama-checks" / f"{key}.ok"
    if marker.is_file():
        return
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(model_path), str(n_threads)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise BackendError(
            f"llama.cpp took over {timeout:.0f} s to decode a test prompt of "
            f"{model_path.name}; the machine may be overloaded"
        ) from None
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        raise BackendError(
            f"the installed llama.cpp build cannot run on this CPU ({name} while decoding "
            f"a test prompt): it was compiled for another processor; {PORTABLE_FIX}"
        )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BackendError(f"llama.cpp could not decode a test prompt of {model_path.name}: {last}")
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(done.stdout.strip() + "\n")
    except OSError:
        pass  # an unwritable cache only means the check runs again next time
