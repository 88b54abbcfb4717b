"""Plugins by entry point: a plugin package (``tests/plugin_demo``, a distribution on the path of
the commands run here) registers a backend, a guideline set and an emotion model, and the command
line reaches all three; a plugin that fails to load is one line, not a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
CLI = [sys.executable, "-m", "emoethics.cli"]


def run(args: list[str], tmp_path: Path, path: Path = HERE / "plugin_demo", **env: str) -> tuple[int, str, str]:
    environ = dict(os.environ, PYTHONPATH=str(path), EMOETHICS_DATA_DIR=str(tmp_path / "data"), **env)
    p = subprocess.run(CLI + args, capture_output=True, timeout=300, env=environ)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_emoethics_plugins_lists_what_an_installed_plugin_registered(tmp_path):
    code, out, err = run(["plugins", "--json"], tmp_path)
    assert code == 0, err
    [demo] = json.loads(out)
    assert demo["name"] == "demo" and demo["package"] == "emoethics-demo-plugin" and demo["version"] == "0.1.0"
    assert (demo["backends"], demo["analyzers"], demo["guidelines"], demo["emotion_models"]) == (
        ["demo-echo"],
        ["demo-sensor"],
        ["demo-default"],
        ["demo-plutchik"],
    )
    code, out, err = run(["plugins"], tmp_path)
    assert code == 0 and "backends demo-echo; analysers demo-sensor;" in out, err


def test_the_command_line_reaches_a_plugins_backend_guidelines_and_emotion_model(tmp_path):
    code, out, err = run(
        ["respond", "I lost my keys again.", "--backend", "demo-echo", "--json"],
        tmp_path,
        EMOETHICS_ANALYZER_BACKEND="sensor",
    )
    assert code == 0, err
    assert json.loads(out)["reply"] == "Hello from the demo plugin."
    code, out, err = run(
        ["judge", "You are a worthless idiot.", "-G", "demo-default", "--no-model", "--json"], tmp_path
    )
    assert code == 0, err
    assert json.loads(out)["verdict"] != "allow"
    code, out, err = run(
        ["analyze", "I am so happy today!", "--backend", "sensor", "--emotion-model", "demo-plutchik", "--json"],
        tmp_path,
    )
    assert code == 0, err
    assert {r["spectrum"] for r in json.loads(out)["readings"]} >= {"sadness-joy"}


def test_a_plugins_analyser_reads_emotions_for_analyze_and_cannot_write_text(tmp_path):
    code, out, err = run(["analyze", "I am so happy today!", "--backend", "demo-sensor", "--json"], tmp_path)
    assert code == 0, err
    profile = json.loads(out)
    assert profile["analyzer"].startswith("demo-sensor:") and profile["readings"]
    code, _, err = run(["respond", "Hello."], tmp_path, EMOETHICS_GENERATOR_BACKEND="demo-sensor")
    assert code == 2 and "reads emotions but cannot write text" in err and "Traceback" not in err


def test_a_plugin_that_fails_to_load_is_one_line(tmp_path):
    broken = tmp_path / "site"
    (broken / "broken_plugin").mkdir(parents=True)
    (broken / "broken_plugin" / "__init__.py").write_text("def register(registry):\n    raise RuntimeError('boom')\n")
    info = broken / "broken_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[emoethics.plugins]\nbroken = broken_plugin:register\n")
    code, _, err = run(["plugins"], tmp_path, path=broken)
    assert code == 2 and "plugin 'broken' (broken_plugin:register) failed to load: RuntimeError: boom" in err
    assert "Traceback" not in err
