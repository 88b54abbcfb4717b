from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emoethics.errors import InputError
from emoethics.textio import MAX_CHARS, check_text, decode, read_items


def test_check_text():
    assert check_text("  hello \n") == "hello"
    for bad, msg in [("", "empty"), ("   \n\t", "empty"), ("x" * (MAX_CHARS + 1), "limit"), ("abc\udcff", "UTF-8")]:
        with pytest.raises(InputError, match=msg):
            check_text(bad)


def test_decode_names_the_bad_byte_and_line():
    assert decode("\ufeffhé".encode(), "f") == "hé"
    with pytest.raises(InputError, match=r"byte 0xff on line 2"):
        decode(b"ok\n\xff", "f")


def test_read_items_formats(tmp_path: Path):
    (tmp_path / "a.jsonl").write_text('{"id": "x", "text": "one"}\n\n{"text": "two"}\n')
    (tmp_path / "a.csv").write_text('id,text\n7,hello\n8,"multi\nline"\n')
    (tmp_path / "a.txt").write_text("first line\nsecond line\n")
    assert [(i.id, i.text) for i in read_items(tmp_path / "a.jsonl")] == [("x", "one"), ("3", "two")]
    assert [(i.id, i.text) for i in read_items(tmp_path / "a.csv")] == [("7", "hello"), ("8", "multi\nline")]
    assert len(read_items(tmp_path / "a.txt")) == 1
    assert [i.text for i in read_items(tmp_path / "a.txt", lines=True)] == ["first line", "second line"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("b.jsonl", '{"text": "ok"}\n{broken\n', "b.jsonl:2: not valid JSON"),
        ("b.jsonl", '{"body": "ok"}\n', "string field 'text'"),
        ("b.csv", "id,body\n1,x\n", "no column 'text'"),
        ("b.txt", "", "empty"),
        ("b.xml", "<a/>", "unknown format"),
    ],
)
def test_read_items_errors(tmp_path: Path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(InputError, match=message):
        read_items(tmp_path / name)


def test_missing_file(tmp_path: Path):
    with pytest.raises(InputError, match="no such file"):
        read_items(tmp_path / "nope.txt")


@given(st.text())
def test_check_text_accepts_or_raises_input_error(s):
    try:
        out = check_text(s)
    except InputError:
        return
    assert out and len(out) <= MAX_CHARS


@given(st.binary(max_size=300))
def test_read_items_on_any_bytes_gives_items_or_input_error(data):
    for fmt in ("txt", "jsonl", "csv"):
        try:
            items = read_items(None, data=data, fmt=fmt)
        except InputError:
            continue
        assert all(i.text for i in items)
