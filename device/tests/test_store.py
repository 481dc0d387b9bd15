"""Durable files (store.py): atomic writes that a crash cannot tear, forgiving reads."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from daybreak_device import store
from daybreak_device.store import (
    atomic_write_json,
    atomic_write_text,
    read_json_object,
    remove_stale_temp_files,
)


class DiskSpy:
    """Records what atomic_write_text asks of the disk: renames and fsyncs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.renames: list[tuple[Path, Path]] = []
        #: For each fsync: whether the fd is a directory, and the file's size on disk.
        self.fsyncs: list[tuple[bool, int]] = []
        real_replace, real_fsync = Path.replace, os.fsync

        def replace(path: Path, target: Any) -> Path:
            self.renames.append((Path(path), Path(target)))
            return real_replace(path, target)

        def fsync(fd: int) -> None:
            info = os.fstat(fd)
            self.fsyncs.append((stat.S_ISDIR(info.st_mode), info.st_size))
            real_fsync(fd)

        monkeypatch.setattr(Path, "replace", replace)
        monkeypatch.setattr(os, "fsync", fsync)


def open_fds() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


def test_a_write_lands_whole_with_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    atomic_write_text(path, "first\n")
    atomic_write_text(path, "ünïcode ☀\n")
    assert path.read_bytes() == "ünïcode ☀\n".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # mkstemp alone would give 0o600
    secret = tmp_path / "token"
    atomic_write_text(secret, "s3cret", mode=0o600)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "token"]


def test_a_write_creates_missing_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "state.json"
    atomic_write_text(path, "x")
    atomic_write_text(path, "y")  # the directory exists now: fine too
    assert path.read_text() == "y"


def test_the_temp_file_is_beside_the_target_and_named_as_startup_cleans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rename is atomic only within one filesystem: the temp file is in the same
    directory, and it has the name that remove_stale_temp_files deletes after a crash."""
    spy = DiskSpy(monkeypatch)
    path = tmp_path / "state.json"
    atomic_write_text(path, "data")
    [(temp, target)] = spy.renames
    assert target == path
    assert temp.parent == path.parent
    assert temp.name.startswith(".state.json.")
    assert temp.name.endswith(".tmp")
    assert temp.name != ".state.json..tmp"  # mkstemp's random part is in between
    # A crash between mkstemp and the rename leaves exactly such a file; startup cleans it.
    temp.write_text("left by a crash")
    assert remove_stale_temp_files(path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
    assert path.read_text() == "data"


def test_the_data_and_the_directory_are_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = DiskSpy(monkeypatch)
    fds = open_fds()
    atomic_write_text(tmp_path / "state.json", "0123456789")
    # The file is fsynced with all its bytes written (flushed first), then its directory
    # (so the rename itself survives a power cut); no descriptor is left open.
    assert spy.fsyncs == [(False, 10), (True, spy.fsyncs[1][1])]
    assert open_fds() == fds


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    atomic_write_text(path, "old")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_remove_stale_temp_files_only_removes_this_files_temps(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{}")
    stale = [".state.json.abc123.tmp", ".state.json.x.tmp"]
    kept = ["state.json", ".token.abc.tmp", "state.json.abc.tmp", ".state.json.abc.tmp.keep"]
    for name in stale + kept[1:]:
        (tmp_path / name).write_text("x")
    assert remove_stale_temp_files(path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    assert remove_stale_temp_files(path) == 0


def test_atomic_write_json_layout(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    atomic_write_json(path, {"b": [1, 2], "a": "é"})
    assert path.read_text(encoding="utf-8") == '{\n "a": "\\u00e9",\n "b": [\n  1,\n  2\n ]\n}\n'
    assert read_json_object(path) == {"a": "é", "b": [1, 2]}


def test_read_json_object_missing_file_is_quietly_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        assert read_json_object(tmp_path / "nothing.json") is None
    assert caplog.records == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "{path} is corrupt (Expecting property name enclosed in double quotes: "),
        (b"[" * 100_000, "{path} is corrupt ("),
        (b"[1, 2]", "{path} does not hold a JSON object; using defaults"),
        (b'"text"', "{path} does not hold a JSON object; using defaults"),
        (b"\xff\xfe{}", "Cannot read {path} ('utf-8' codec can't decode byte 0xff in position 0"),
    ],
    ids=["corrupt", "too-deep", "list", "string", "not-utf-8"],
)
def test_read_json_object_unusable_files_warn_and_give_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes, message: str
) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger=store.__name__):
        assert read_json_object(path) is None
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith(message.format(path=path))
    if "corrupt" in message or "Cannot read" in message:
        assert record.getMessage().endswith("); using defaults")


def test_read_json_object_unreadable_path_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.json"
    path.mkdir()  # reading a directory fails with an OSError other than "not found"
    with caplog.at_level(logging.WARNING, logger=store.__name__):
        assert read_json_object(path) is None
    [record] = caplog.records
    assert record.getMessage() == (
        f"Cannot read {path} ([Errno 21] Is a directory: {str(path)!r}); using defaults"
    )


def test_read_json_object_returns_the_object(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"on": True, "level": 12.5}), encoding="utf-8")
    assert read_json_object(path) == {"on": True, "level": 12.5}


def test_files_are_utf_8_whatever_the_locale(tmp_path: Path) -> None:
    """A device started without a UTF-8 locale (``LANG=C``, no coercion) still writes and
    reads text with accents: the files are UTF-8, not the locale's encoding (ASCII)."""
    written, saved = tmp_path / "name.txt", tmp_path / "state.json"
    saved.write_text('{"name": "Küche"}', encoding="utf-8")
    code = (
        "import sys; from pathlib import Path; "
        "from daybreak_device.store import atomic_write_text, read_json_object; "
        # ASCII source: under LANG=C the command line must be ASCII too.
        "atomic_write_text(Path(sys.argv[1]), 'Schlafzimmer \\u00e9 \\u2600'); "
        "print(ascii(read_json_object(Path(sys.argv[2]))))"
    )
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    run = subprocess.run(
        [sys.executable, "-c", code, str(written), str(saved)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ascii({"name": "Küche"})
    # The same bytes as this process writes (whose locale may well be UTF-8).
    here = tmp_path / "here.txt"
    atomic_write_text(here, "Schlafzimmer é ☀")
    assert written.read_bytes() == here.read_bytes() == "Schlafzimmer é ☀".encode()
    assert read_json_object(saved) == {"name": "Küche"}
