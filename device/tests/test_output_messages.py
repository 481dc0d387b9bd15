"""What a user reads when the LED output cannot start: on a Pi, on a PC, and with udev.

On a PC the default run says ``--mock``, once, without gpiozero's four
``PinFactoryFallback`` warnings; on a Raspberry Pi without lgpio it says what to install
or to use ``--output sysfs``. After a sysfs export the server waits until udev has made
the channel's files writable, and says so when udev never does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.exc import GPIOZeroWarning

from daybreak_device import output
from daybreak_device.output import GpiozeroOutput, OutputError, SysfsPwmOutput
from helpers import make_fake_sysfs

EXE = Path(sys.executable).parent / "daybreak-device"
PI_MODEL = "Raspberry Pi 4 Model B Rev 1.4"
NOBODY = 65534


def on_a_pi() -> bool:
    try:
        return b"Raspberry Pi" in Path("/proc/device-tree/model").read_bytes()
    except OSError:
        return False


@pytest.fixture
def clean_gpiozero(monkeypatch) -> Iterator[None]:
    """gpiozero picks its default pin factory afresh; no factory from the environment."""
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    before = Device.pin_factory
    Device.pin_factory = None
    yield
    if Device.pin_factory is not None and Device.pin_factory is not before:
        Device.pin_factory.close()
    Device.pin_factory = before


@pytest.fixture
def pi(tmp_path: Path, monkeypatch) -> None:
    """The device tree names a Raspberry Pi (NUL-terminated, as the kernel writes it)."""
    model = tmp_path / "model"
    model.write_bytes(PI_MODEL.encode() + b"\0")
    monkeypatch.setattr(output, "DEVICE_TREE_MODEL", model)


@pytest.fixture
def pc(tmp_path: Path, monkeypatch) -> None:
    """No device tree, as on a PC."""
    monkeypatch.setattr(output, "DEVICE_TREE_MODEL", tmp_path / "no-device-tree" / "model")


def open_default_gpio() -> tuple[str, list[warnings.WarningMessage]]:
    """Open GPIO18 with gpiozero's default factory; the error and gpiozero's warnings.

    (Other warnings, e.g. a ResourceWarning of an earlier test's garbage, are not ours.)
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(OutputError) as info:
            GpiozeroOutput("GPIO18", 1000)
    return str(info.value), [w for w in caught if issubclass(w.category, GPIOZeroWarning)]


def test_a_pi_without_lgpio_says_what_to_install(clean_gpiozero, pi) -> None:
    pytest.importorskip("gpiozero")
    if shutil.which("lgpio") or _importable("lgpio"):
        pytest.skip("lgpio is installed here")
    message, caught = open_default_gpio()
    assert caught == []
    assert PI_MODEL in message
    assert "sudo apt install python3-lgpio" in message
    assert "--system-site-packages" in message
    assert "daybreak-device[pi]" in message
    assert "--output sysfs" in message
    assert "--mock" not in message  # not for a Pi


def test_a_pi_whose_lgpio_cannot_write_its_pipe_says_so(
    clean_gpiozero, pi, tmp_path: Path, monkeypatch
) -> None:
    """lgpio creates .lgd-nfy* in the working directory; gpiozero #1106."""
    fake = tmp_path / "fake-lgpio"
    fake.mkdir()
    (fake / "lgpio.py").write_text(
        textwrap.dedent("""\
            raise FileNotFoundError(2, "No such file or directory", ".lgd-nfy-3")
        """)
    )
    monkeypatch.syspath_prepend(str(fake))
    monkeypatch.delitem(sys.modules, "lgpio", raising=False)
    monkeypatch.delitem(sys.modules, "gpiozero.pins.lgpio", raising=False)
    message, caught = open_default_gpio()
    assert caught == []
    assert "working directory" in message
    assert "LG_WD" in message
    assert "--output sysfs" in message


def test_a_pc_says_mock(clean_gpiozero, pc) -> None:
    message, caught = open_default_gpio()
    assert caught == []
    assert "not a Raspberry Pi" in message
    assert message.count("--mock") == 1


def test_a_given_pin_factory_keeps_its_own_warnings_and_error() -> None:
    """Only the fallback gpiozero does by itself is ours to explain."""
    from gpiozero.pins.mock import MockFactory  # noqa: PLC0415 - a plain (non-PWM) mock

    factory = MockFactory()
    try:
        with pytest.raises(OutputError, match="cannot open GPIO GPIO18 with gpiozero: ") as info:
            GpiozeroOutput("GPIO18", 1000, pin_factory=factory)
    finally:
        factory.close()
    assert "--mock" not in str(info.value)


def _importable(name: str) -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec(name) is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(on_a_pi(), reason="this is a Raspberry Pi: the PC message does not apply")
def test_the_default_run_on_a_pc_prints_one_line(tmp_path: Path) -> None:
    """The real command, as a user first runs it on a PC: one line, no warnings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAYBREAK_", "GPIOZERO_"))}
    result = subprocess.run(
        [str(EXE), "--state-dir", str(tmp_path), "--token", "a-pc-token-0123456789",
         "--host", "127.0.0.1", "--port", str(free_port()), "--no-zeroconf"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Warning" not in result.stderr
    assert "Falling back" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("daybreak-device: cannot open GPIO GPIO18: ")
    assert lines[0].endswith("run it with --mock")


# -- sysfs: waiting for udev ------------------------------------------------------------


def udev_tree() -> Path:
    """A fake sysfs PWM root another user can reach (tmp_path is root's own, mode 0700)."""
    base = Path(tempfile.mkdtemp(prefix="daybreak-udev-"))
    base.chmod(0o755)
    root = base / "pwm"
    make_fake_sysfs(root)
    chip = root / "pwmchip0"
    shutil.rmtree(chip / "pwm0")
    (chip / "export").chmod(0o666)
    (chip / "unexport").chmod(0o666)
    for path in (root, chip):
        path.chmod(0o755)
    return root


def kernel_and_udev(chip: Path, grant_after: float | None) -> threading.Thread:
    """On "0" in export: create pwm0 read-only (the kernel), open it later (udev)."""

    def run() -> None:
        deadline = time.monotonic() + 10
        while (chip / "export").read_text().strip() != "0":
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)
        pwm = chip / "pwm0"
        pwm.mkdir()
        pwm.chmod(0o755)
        for name in ("period", "enable", "duty_cycle"):
            (pwm / name).write_text("0\n")
            (pwm / name).chmod(0o444)
        if grant_after is None:
            return
        time.sleep(grant_after)
        for name in ("period", "enable", "duty_cycle"):
            (pwm / name).chmod(0o666)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def open_as_a_user(root: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """SysfsPwmOutput in a process that is not root (root may write any file).

    Run as root, the child imports everything first and then becomes nobody (the venv's
    Python may live where nobody can read it).
    """
    code = textwrap.dedent(f"""\
        import os, sys
        from pathlib import Path
        from daybreak_device.output import OutputError, SysfsPwmOutput
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid({NOBODY})
            os.setuid({NOBODY})
        try:
            out = SysfsPwmOutput(root=Path({str(root)!r}), export_timeout={timeout})
        except OutputError as err:
            print(err)
            sys.exit(1)
        out.set_duty(0.5)
        print("ok")
    """)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sysfs_export_waits_until_udev_makes_the_files_writable() -> None:
    root = udev_tree()
    try:
        thread = kernel_and_udev(root / "pwmchip0", grant_after=0.5)
        result = open_as_a_user(root, timeout=5)
        thread.join(10)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == "ok"
        pwm = root / "pwmchip0" / "pwm0"
        assert (pwm / "period").read_text().strip() == "500000"
        assert (pwm / "duty_cycle").read_text().strip() == "250000"
        assert (pwm / "enable").read_text().strip() == "1"
    finally:
        shutil.rmtree(root.parent)


def test_sysfs_export_without_udev_access_is_a_clear_error() -> None:
    root = udev_tree()
    try:
        thread = kernel_and_udev(root / "pwmchip0", grant_after=None)
        started = time.monotonic()
        result = open_as_a_user(root, timeout=0.5)
        elapsed = time.monotonic() - started
        thread.join(10)
        assert result.returncode == 1, result.stdout + result.stderr
        message = result.stdout.strip()
        assert "is still not writable by this user" in message
        assert "udev did not grant access" in message
        assert "gpio group" in message
        assert "README" in message
        assert elapsed < 10  # bounded
    finally:
        shutil.rmtree(root.parent)


def test_sysfs_permission_denied_on_an_exported_channel_names_udev(
    tmp_path: Path, monkeypatch
) -> None:
    """A channel exported before (no wait then) that this user may not write."""
    root = tmp_path / "pwm"
    make_fake_sysfs(root)

    def denied(path: object, flags: int, *args: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(OutputError, match=r"cannot open .*: Permission denied \(.*udev"):
        SysfsPwmOutput(root=root)
