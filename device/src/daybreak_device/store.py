"""Durable files: atomic JSON writes and forgiving reads.

A write goes to a temporary file in the same directory, is fsynced, renamed over
the old file and the directory is fsynced, so after a crash or power cut the file
is either the old version or the new one, never a torn mix.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)


def atomic_write_text(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``text`` atomically and durably."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_stale_temp_files(path: Path) -> int:
    """Delete temp files a crash left from :func:`atomic_write_text` for ``path``.

    A kill between ``mkstemp`` and ``rename`` leaves ``.NAME.*.tmp`` behind (the file
    itself is intact). Call at startup, before anything writes ``path``; returns how
    many were removed.
    """
    removed = 0
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
        removed += 1
    return removed


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically and durably."""
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def read_json_object(path: Path) -> dict[str, Any] | None:
    """Read a JSON object from ``path``.

    Returns ``None`` when the file is missing; logs a warning and returns ``None``
    when it cannot be read or is not a JSON object.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        _LOGGER.warning("Cannot read %s (%s); using defaults", path, err)
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        _LOGGER.warning("%s is corrupt (%s); using defaults", path, err)
        return None
    if not isinstance(data, dict):
        _LOGGER.warning("%s does not hold a JSON object; using defaults", path)
        return None
    return data
