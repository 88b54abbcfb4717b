"""Every command the README and docs show: each parses (its command and options exist), and those
that need no model server, no input file of the reader's and no terminal run for real, with the
small packaged model (``EMOETHICS_MODEL=smollm2``) and the sensor, in a fresh data folder."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emoethics.cli import app

from conftest import requires_smollm

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def documented() -> list[tuple[str, list[str]]]:
    """(where, arguments) of every ``emoethics`` line in a shell block of the docs."""
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in re.findall(r"```(?:sh|bash|console)\n(.*?)```", text, flags=re.S):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.split(" #", 1)[0].strip()
                if "emoethics " not in line or line.startswith("#"):
                    continue
                command = line[line.index("emoethics ") :]
                out.append((f"{doc.name}: {command}", shlex.split(command)[1:]))
    return out


COMMANDS = documented()


def test_the_docs_show_commands():
    assert len(COMMANDS) >= 40


@pytest.mark.parametrize(("where", "args"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_each_documented_command_and_its_options_exist(where: str, args: list[str]):
    """``--help`` after the command's own arguments: an unknown command or option fails first."""
    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0, f"{where}\n{result.output}"
    assert "Usage:" in result.output


#: What runs for real: no server, no file of the reader's, no terminal (``chat``), nothing that
#: learns or debates for minutes on 2 cores (``sshf learn``, ``dike learn``, ``review``, ``judge`` and
#: ``respond`` with a model: ``test_cli_small_model.py``, ``test_ethics_model.py`` and ``make demo``
#: run those); the text "..." stands for the reader's own.
RUNS = [
    'emoethics analyze "I can\'t believe they cancelled my flight again" --json',
    'emoethics analyze --backend sensor "I am not happy at all"',
    'emoethics rewrite "The meeting moved to Friday." --emotion anger --intensity 0.9 --json',
    "emoethics guidelines",
    "emoethics models",
    "emoethics plugins",
    "emoethics keys create my-app --rate-limit 120/minute",
    "emoethics runs --kind judge",
    "emoethics feedback",
    "emoethics sshf activate latest",
]


def test_the_commands_that_run_here_are_documented_ones():
    shown = {" ".join(args) for _, args in COMMANDS}
    assert all(" ".join(shlex.split(c)[1:]) in shown for c in RUNS)


@requires_smollm
@pytest.mark.parametrize("command", RUNS)
def test_a_documented_command_runs_with_the_small_model(command: str, tmp_path: Path):
    env = dict(
        os.environ,
        EMOETHICS_DATA_DIR=str(tmp_path),
        EMOETHICS_BACKEND="local",
        EMOETHICS_MODEL="smollm2",
        EMOETHICS_CRITIC_BACKEND="sensor",
        COLUMNS="120",
    )
    env.pop("EMOETHICS_CONFIG", None)
    p = subprocess.run(
        [sys.executable, "-m", "emoethics.cli", *shlex.split(command)[1:]],
        capture_output=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    err = p.stderr.decode()
    if command.endswith("activate latest"):  # a fresh store has no rulebook: one line, not a traceback
        assert p.returncode in (0, 2) and "Traceback" not in err, err
        return
    assert p.returncode == 0, err
    assert p.stdout.strip(), err
