"""The systemd unit: it verifies, it is sandboxed, and a configuration error is not restarted.

``systemd-analyze`` (systemd 252 on Debian 12 and Raspberry Pi OS bookworm) checks the unit
file offline; without it the tests that need it are skipped, saying so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from daybreak_device import cli

UNIT = Path(__file__).parents[1] / "systemd" / "daybreak-device.service"
EXE = Path(sys.executable).parent / "daybreak-device"
MAX_EXPOSURE = 5.0

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (apt-get install systemd)",
)


def unit_settings() -> dict[str, dict[str, list[str]]]:
    """Section -> key -> every value (keys may repeat in a unit file)."""
    sections: dict[str, dict[str, list[str]]] = {}
    section = ""
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            sections[section] = {}
            continue
        key, _, value = line.partition("=")
        sections[section].setdefault(key, []).append(value)
    return sections


def installable_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this venv's daybreak-device.

    ``systemd-analyze verify`` checks that the program exists; on this machine it is not
    in /usr/local/bin, where the README's pipx install puts it.
    """
    text = UNIT.read_text()
    assert "\nExecStart=/usr/local/bin/daybreak-device\n" in text
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace("/usr/local/bin/daybreak-device", str(EXE)))
    return copy


@needs_systemd_analyze
def test_the_unit_verifies(tmp_path: Path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", str(installable_copy(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == ""


@needs_systemd_analyze
def test_the_unit_is_sandboxed_below_exposure_5() -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    exposure = float(match.group(1))
    print(f"systemd-analyze security: {exposure}")
    assert exposure < MAX_EXPOSURE, result.stdout


def test_every_sandboxing_relaxation_is_commented() -> None:
    """What the hardware needs is said where the unit gives it."""
    text = UNIT.read_text()
    for needed in ("/dev/gpiochip", "/sys/class/pwm", "ProtectKernelTunables", "PrivateDevices"):
        assert needed in text, needed
    service = unit_settings()["Service"]
    assert service["DevicePolicy"] == ["closed"]
    assert service["DeviceAllow"] == ["char-gpiochip rw"]
    assert "ProtectKernelTunables" not in service  # sysfs PWM writes /sys
    assert "PrivateDevices" not in service  # lgpio opens /dev/gpiochip*


def test_a_configuration_error_is_not_restarted(tmp_path: Path, capsys) -> None:
    """The exit status of a bad setting is the one the unit does not restart."""
    bad = tmp_path / "config.toml"
    bad.write_text('port = "eighty"\n')
    code = cli.main(["--config", str(bad), "--state-dir", str(tmp_path)])
    assert "port" in capsys.readouterr().err
    units = unit_settings()
    prevented = {
        int(v) for value in units["Service"]["RestartPreventExitStatus"] for v in value.split()
    }
    assert code in prevented
    assert code == 2


def test_other_failures_trip_a_start_limit() -> None:
    """Restart=always with RestartSec=2 never reaches systemd's default limit (5 in 10 s)."""
    units = unit_settings()
    interval = int(units["Unit"]["StartLimitIntervalSec"][0])
    burst = int(units["Unit"]["StartLimitBurst"][0])
    restart_sec = float(units["Service"]["RestartSec"][0])
    assert units["Service"]["Restart"] == ["always"]
    assert burst * restart_sec < interval  # a crash loop trips it
    assert int(units["Service"]["LimitNOFILE"][0]) >= 1024


def test_the_unit_and_the_config_come_with_the_package() -> None:
    """A pipx install has no checkout: --print-unit and --print-config print the files."""
    for flag, source in (
        ("--print-unit", UNIT),
        ("--print-config", UNIT.parents[1] / "config.example.toml"),
    ):
        result = subprocess.run(
            [str(EXE), flag], capture_output=True, text=True, timeout=30, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == source.read_text(), flag
    assert unit_settings()["Service"]["ExecStart"] == ["/usr/local/bin/daybreak-device"]
