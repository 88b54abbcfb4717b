"""Bad input and bad servers give one clear line and a non-zero exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from servers import broken_server, free_port

CLI = [sys.executable, "-m", "emoethics.cli"]


def run(args: list[str], stdin: bytes | None = None, env: dict | None = None):
    e = dict(os.environ, **(env or {}))
    p = subprocess.run(CLI + args, input=stdin, capture_output=True, timeout=120, env=e)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def assert_clean_error(code: int, _out: str, err: str, code_expected: int, needle: str):
    assert code == code_expected, err
    assert "Traceback" not in err
    lines = [x for x in err.strip().splitlines() if x.strip()]
    assert lines and lines[0].startswith("error:"), err
    assert needle in err.replace("\n", " ")


def test_empty_text():
    assert_clean_error(*run(["analyze", ""]), 2, "the text is empty")


def test_five_megabyte_input(tmp_path: Path):
    f = tmp_path / "big.txt"
    f.write_bytes(b"a" * 5_000_000)
    assert_clean_error(*run(["analyze", "-i", str(f)]), 2, "the limit is")
    assert_clean_error(*run(["analyze"], stdin=b"b" * 5_000_000), 2, "the limit is")


def test_invalid_utf8(tmp_path: Path):
    assert_clean_error(*run(["analyze"], stdin=b"caf\xe9 au lait"), 2, "not valid UTF-8")
    f = tmp_path / "latin.txt"
    f.write_bytes(b"ok\ncaf\xe9")
    assert_clean_error(*run(["analyze", "-i", str(f)]), 2, "byte 0xe9 on line 2")


def test_bad_emotion_model_file(tmp_path: Path):
    f = tmp_path / "m.yaml"
    f.write_text("id: m\nspectra:\n  - id: a\n    negative: x\n")
    assert_clean_error(*run(["analyze", "hello", "-E", str(f)]), 2, "field 'spectra.0.positive'")


def test_unreachable_server():
    port = free_port()
    assert_clean_error(
        *run(["analyze", "hello", "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "m", "--timeout", "3"]),
        3,
        "cannot reach",
    )


@pytest.mark.parametrize(
    "mode, needle",
    [
        ("garbage", "not a chat completion"),
        ("badjson", "returned invalid output 3 times"),
        ("500", "answered HTTP 500"),
    ],
)
def test_misbehaving_server(mode, needle):
    with broken_server(mode) as url:
        code, _, err = run(
            ["analyze", "hello", "--base-url", url, "--model", "m"],
            env={"EMOETHICS_CACHE_DIR": "/tmp/emoethics-test-cache"},
        )
    assert_clean_error(code, _, err, 3, needle)


def test_server_timeout():
    with broken_server("slow") as url:
        code, _, err = run(["rewrite", "hello", "--level", "joy", "--base-url", url, "--model", "m", "--timeout", "1"])
    assert_clean_error(code, _, err, 3, "did not answer within 1 s")


def test_usage_errors_are_clean():
    code, _, err = run(["rewrite", "hello", "--emotion", "anger", "--intensity", "3"])
    assert_clean_error(code, _, err, 2, "must be in [0, 1]")
    code, _, err = run(["sweep", "hello", "--spectrum", "hunger"])
    assert_clean_error(code, _, err, 2, "no spectrum or pole named 'hunger'")
