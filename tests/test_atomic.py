"""advisor.atomic: a write either replaces the whole file or leaves the old one untouched."""

import os

import pytest

from advisor.atomic import atomic_open, write_bytes_atomic, write_text_atomic


def test_a_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "report.json"
    write_text_atomic(path, "old")
    write_text_atomic(path, "new")
    write_bytes_atomic(tmp_path / "model.tflite", b"\x00\x01")
    assert path.read_text() == "new" and (tmp_path / "model.tflite").read_bytes() == b"\x00\x01"
    assert sorted(os.listdir(tmp_path)) == ["model.tflite", "report.json"]


def test_an_error_while_writing_keeps_the_old_file(tmp_path):
    path = tmp_path / "last.pt"
    path.write_bytes(b"good checkpoint")
    with pytest.raises(RuntimeError, match="disk full"), atomic_open(path, "wb") as out:
        out.write(b"half a chec")
        assert os.path.dirname(out.name) == str(tmp_path) and out.name != str(path)
        raise RuntimeError("disk full")
    assert path.read_bytes() == b"good checkpoint" and os.listdir(tmp_path) == ["last.pt"]


def test_only_whole_file_writes():
    with pytest.raises(ValueError, match="mode 'w' or 'wb'"), atomic_open("x", "a"):
        pass
