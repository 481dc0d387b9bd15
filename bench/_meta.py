"""Stdlib-only facts every bench prints (usable from the device and the HA venvs)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def git_revision() -> str:
    """Short HEAD of the repository, marked when tracked files have uncommitted changes."""
    git = shutil.which("git")
    if git is None:
        return "unknown (no git)"
    try:
        rev = subprocess.run(
            [git, "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [git, "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{rev}{' (uncommitted changes)' if dirty else ''}"
