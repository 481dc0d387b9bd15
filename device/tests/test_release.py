"""One version everywhere: the device package, the integration's manifest, the changelog.

A release bumps ``daybreak_device.__version__`` (hatch reads the package version from it),
``manifest.json`` and the newest ``CHANGELOG.md`` entry together (README, "Making a
release"); these tests fail when one of them is forgotten.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from daybreak_device import __version__
from daybreak_device.protocol import PROTOCOL_VERSION

REPO = Path(__file__).parents[2]
EXE = Path(sys.executable).parent / "daybreak-device"
ENTRY = re.compile(r"^## \[(?P<version>\d+\.\d+\.\d+)\] - (?P<date>\d{4}-\d\d-\d\d|Unreleased)$")


def changelog_entries() -> list[tuple[str, str, str]]:
    """(version, date, body) of every release in CHANGELOG.md, newest first."""
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    entries: list[tuple[str, str, str]] = []
    for block in re.split(r"(?m)^(?=## )", text)[1:]:
        heading, _, body = block.partition("\n")
        match = ENTRY.match(heading)
        assert match, f"CHANGELOG.md: not a release heading: {heading!r}"
        entries.append((match["version"], match["date"], body))
    return entries


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_the_package_version_is_read_from_the_module() -> None:
    pyproject = tomllib.loads((REPO / "device" / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "src/daybreak_device/__init__.py"
    # The installed build (scripts/setup installs ./device as a wheel) carries it.
    assert metadata.version("daybreak-device") == __version__


def test_the_integration_has_the_device_version() -> None:
    manifest = json.loads(
        (REPO / "custom_components" / "daybreak" / "manifest.json").read_text(encoding="utf-8")
    )
    assert manifest["version"] == __version__


def test_the_newest_changelog_entry_is_this_version_and_protocol() -> None:
    entries = changelog_entries()
    version, _date, body = entries[0]
    assert version == __version__
    assert body.strip().splitlines()[0] == f"Protocol version {PROTOCOL_VERSION}."


def test_every_changelog_entry_names_its_protocol_and_link() -> None:
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    entries = changelog_entries()
    versions = [version for version, _, _ in entries]
    assert versions == sorted(versions, key=version_key, reverse=True)
    assert len(set(versions)) == len(versions)
    assert ("0.1.0", "2026-11-21") in [(v, d) for v, d, _ in entries]
    for version, date, body in entries:
        assert re.search(r"^Protocol version \d+\.", body, re.MULTILINE), version
        assert re.search(rf"^\[{re.escape(version)}\]: https://", text, re.MULTILINE), version
        if version != __version__:
            assert date != "Unreleased", f"{version} was released: it has a date"
    assert "Protocol version 2." in entries[versions.index("0.1.0")][2]


def test_version_flag_prints_the_version() -> None:
    result = subprocess.run(
        [str(EXE), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"daybreak-device {__version__}"


def readme_blocks() -> dict[str, str]:
    """The README's shell blocks marked ``<!-- check-pi-install: NAME -->``."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"<!-- check-pi-install: ([\w-]+) -->\n```sh\n(.*?)```", readme, re.DOTALL)
    return dict(found)


def test_the_readme_installs_the_latest_release_without_git() -> None:
    """The install URL is the asset the release step uploads and test_upgrade.py serves."""
    from test_upgrade import LATEST  # noqa: PLC0415 - the path the update test plays

    url = "https://github.com/daybreak-light/daybreak" + LATEST
    blocks = readme_blocks()
    assert set(blocks) == {"raspberry-pi-os", "common", "debian"}
    assert url in blocks["raspberry-pi-os"]
    assert f'"daybreak-device[pi] @ {url}"' in blocks["debian"]
    for name, block in blocks.items():
        assert "git+" not in block, name
        assert "device/" not in block, f"{name} needs a checkout"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    release_steps = readme[readme.index("### Making a release") :]
    assert "`daybreak-device.tar.gz`" in release_steps
    assert "pipx upgrade daybreak-device" in readme
