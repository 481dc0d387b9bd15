"""LED output backends: the only code that touches the hardware.

Every backend takes a duty cycle as a float in 0-1 and keeps it as precise as the
hardware allows; nothing here rounds to 8 bits or whole percent.

* :class:`GpiozeroOutput` drives a ``PWMLED`` with whatever pin factory gpiozero
  picks (lgpio on a current Raspberry Pi OS, pigpio, or ``MockFactory`` with
  ``MockPWMPin`` on a PC). Software PWM, and gpiozero's lgpio pin *truncates* the
  duty to whole percent (101 levels: a 30-minute sunrise stays dark for ~160 s, then
  jumps by L* 9), so prefer sysfs for a wake-up light.
* :class:`SysfsPwmOutput` uses the kernel's hardware PWM through
  ``/sys/class/pwm/pwmchipN/pwmM`` (``dtoverlay=pwm-2chan``; GPIO 12/13/18/19).
  Duty is written in nanoseconds: at the default 2 kHz that is 500,000 steps.
"""

from __future__ import annotations

import errno
import logging
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gpiozero import PWMLED
    from gpiozero.pins import Factory

_LOGGER = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000

#: Where the kernel names the board, e.g. "Raspberry Pi 4 Model B Rev 1.4" (tests move it).
DEVICE_TREE_MODEL = Path("/proc/device-tree/model")
#: What the README says about udev and sysfs PWM outside Raspberry Pi OS.
_UDEV_HINT = (
    "Raspberry Pi OS's udev rules give the gpio group access (the unit's "
    "SupplementaryGroups=gpio); on other systems add the udev rule from the README"
)


class OutputError(RuntimeError):
    """The output could not be opened or driven."""


class Output(Protocol):
    """An LED output driven by duty cycle."""

    @property
    def description(self) -> str:
        """A short human-readable description, e.g. ``sysfs pwmchip0/pwm0 2000 Hz``."""

    @property
    def duty(self) -> float:
        """The duty cycle last written (0-1)."""

    def set_duty(self, duty: float) -> None:
        """Set the duty cycle (0-1)."""

    def close(self, *, turn_off: bool) -> None:
        """Release the output; ``turn_off`` first sets it dark."""


def board_model() -> str | None:
    """The device tree's board model, or ``None`` (not a device-tree board, e.g. a PC)."""
    try:
        model = DEVICE_TREE_MODEL.read_bytes()
    except OSError:
        return None
    return model.rstrip(b"\0").decode(errors="replace").strip() or None


def _no_pwm_message(pin: int | str, err: Exception, fallbacks: list[str]) -> str:
    """Say what to do when gpiozero found no pin factory with PWM, for a Pi or a PC."""
    model = board_model()
    if model is None or "Raspberry Pi" not in model:
        where = f"this {model} is not a Raspberry Pi" if model else "this is not a Raspberry Pi"
        return (
            f"cannot open GPIO {pin}: {where}. To try the server without the hardware, "
            "run it with --mock"
        )
    lgpio = next(
        (r.partition(": ")[2] for r in fallbacks if r.startswith("Falling back from lgpio:")),
        None,
    )
    if lgpio is None:  # lgpio loaded and still failed: its own words
        return f"cannot open GPIO {pin} with gpiozero on this {model}: {err}"
    if "No module named 'lgpio'" in lgpio:
        hint = (
            "lgpio is not installed. On Raspberry Pi OS: sudo apt install python3-lgpio "
            "(and install daybreak-device with pipx --system-site-packages); elsewhere "
            "install daybreak-device[pi], which brings lgpio from PyPI"
        )
    elif ".lgd-nfy" in lgpio:
        hint = (
            f"lgpio cannot create its notification pipe in the working directory "
            f"{Path.cwd()} ({lgpio}): start the server in a writable directory (the unit "
            "sets WorkingDirectory=) or set LG_WD to one"
        )
    else:
        hint = (
            f"lgpio cannot open the GPIO chip ({lgpio}): the user needs the gpio group, "
            "which owns /dev/gpiochip*"
        )
    return (
        f"cannot drive GPIO {pin} with PWM on this {model}: {hint}. Or use the hardware "
        "PWM instead: --output sysfs (README: dtoverlay=pwm-2chan)"
    )


def _check_duty(duty: float) -> float:
    if not 0.0 <= duty <= 1.0:  # also refuses NaN
        raise ValueError(f"duty must be between 0 and 1, got {duty!r}")
    return duty


class GpiozeroOutput:
    """A gpiozero ``PWMLED`` on one GPIO pin.

    When the process ends gpiozero releases the pin, so a software-PWM LED goes dark
    whatever ``turn_off`` says; only hardware PWM through sysfs keeps its level.
    """

    def __init__(
        self,
        pin: int | str,
        frequency: float,
        *,
        active_high: bool = True,
        pin_factory: Factory | None = None,
    ) -> None:
        """Open ``pin`` as a PWM LED at ``frequency`` Hz (gpiozero picks the factory)."""
        from gpiozero import PWMLED  # noqa: PLC0415 - heavy import, only for this backend
        from gpiozero.exc import (  # noqa: PLC0415
            GPIOZeroError,
            NativePinFactoryFallback,
            PinFactoryFallback,
        )

        if not 1 <= frequency <= 100_000:
            raise ValueError("PWM frequency must be between 1 and 100000 Hz")
        # gpiozero picks a pin factory by trying lgpio, RPi.GPIO, pigpio and its native
        # one, warning about each that fails (four warnings on a PC). Unless a factory is
        # given, those warnings are ours to handle: kept for the message below, logged at
        # debug, not printed.
        chooses = pin_factory is None and not os.environ.get("GPIOZERO_PIN_FACTORY")
        fallbacks: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self._led: PWMLED = PWMLED(
                    pin,
                    active_high=active_high,
                    initial_value=0,
                    frequency=int(frequency),
                    pin_factory=pin_factory,
                )
            except GPIOZeroError as err:
                error: GPIOZeroError | None = err
            else:
                error = None
        for warning in caught:
            if chooses and issubclass(
                warning.category, (PinFactoryFallback, NativePinFactoryFallback)
            ):
                fallbacks.append(str(warning.message))
                _LOGGER.debug("gpiozero: %s", warning.message)
            else:
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
        if error is not None:
            if chooses:
                raise OutputError(_no_pwm_message(pin, error, fallbacks)) from error
            raise OutputError(f"cannot open GPIO {pin} with gpiozero: {error}") from error
        self._duty = 0.0
        factory = type(self._led.pin_factory).__name__
        self._description = f"gpiozero {factory} {pin} {int(frequency)} Hz"
        # lgpio sends int(duty * 100): skip writes that would not change that, so a
        # slow ramp does not restart the software PWM on every tick.
        self._steps = 100 if factory == "LGPIOFactory" else 0
        if self._steps:
            _LOGGER.warning(
                "gpiozero's lgpio pin factory has only 100 duty steps; dim light will "
                "visibly step. Hardware PWM (--output sysfs) has ~500,000 at 2 kHz"
            )

    @property
    def description(self) -> str:
        """Backend, pin factory, pin and frequency."""
        return self._description

    @property
    def duty(self) -> float:
        """The duty cycle last written."""
        return self._duty

    @property
    def led(self) -> PWMLED:
        """The underlying gpiozero device (tests read its pin)."""
        return self._led

    def set_duty(self, duty: float) -> None:
        """Write the duty cycle to the PWM LED."""
        duty = _check_duty(duty)
        if duty == self._duty:
            return
        if self._steps and int(duty * self._steps) == int(self._duty * self._steps):
            self._duty = duty
            return
        self._led.value = duty
        self._duty = duty

    def close(self, *, turn_off: bool) -> None:
        """Turn off if asked, then release the pin."""
        if turn_off:
            self.set_duty(0.0)
        self._led.close()


class SysfsPwmOutput:
    """Kernel hardware PWM through the sysfs interface.

    ``root`` defaults to ``/sys/class/pwm``; tests point it at a fake tree. The
    channel is exported if its directory does not exist yet, then period and enable
    are set. Active-low drivers are handled by inverting the duty (not every PWM
    controller supports the ``polarity`` file), so "off" is a full-period duty and the
    channel is never disabled for them: a disabled channel may rest low, i.e. on.
    Each value is written with one ``write()`` call, as sysfs wants, and unchanged
    duty values are not rewritten.
    """

    def __init__(
        self,
        *,
        chip: int = 0,
        channel: int = 0,
        frequency: float = 2000.0,
        root: Path = Path("/sys/class/pwm"),
        active_high: bool = True,
        export_timeout: float = 5.0,
    ) -> None:
        """Export and configure ``pwmchip{chip}/pwm{channel}`` at ``frequency`` Hz.

        After an export the channel's files appear owned by root, and udev then hands
        them to the gpio group (Raspberry Pi OS): this waits up to ``export_timeout``
        seconds until they are writable.
        """
        if not 10 <= frequency <= 1_000_000:
            raise ValueError("PWM frequency must be between 10 and 1000000 Hz")
        self._chip_dir = root / f"pwmchip{chip}"
        self._dir = self._chip_dir / f"pwm{channel}"
        self._period_ns = round(NS_PER_S / frequency)
        self._active_high = active_high
        self._duty = 0.0
        self._duty_ns = -1
        self._description = f"sysfs pwmchip{chip}/pwm{channel} {frequency:g} Hz"
        if not self._chip_dir.is_dir():
            raise OutputError(
                f"{self._chip_dir} does not exist: enable hardware PWM "
                "(dtoverlay=pwm-2chan in /boot/firmware/config.txt) or pick another chip"
            )
        if not self._dir.is_dir():
            self._write(self._chip_dir / "export", str(channel))
            self._wait_until_writable(export_timeout)
        current = self._read_int("period"), self._read_int("duty_cycle")
        if current[0] == self._period_ns and current[1] is not None:
            # Still running from before a restart: keep the level, no dark flash.
            ns = min(max(current[1], 0), self._period_ns)
            self._duty_ns = ns
            self._duty = (ns if active_high else self._period_ns - ns) / self._period_ns
        else:
            # The kernel refuses a period shorter than the current duty: zero it first.
            self._write(self._dir / "duty_cycle", "0")
            self._write(self._dir / "period", str(self._period_ns))
            self.set_duty(0.0)
        self._write(self._dir / "enable", "1")

    @property
    def description(self) -> str:
        """Backend, chip, channel and frequency."""
        return self._description

    @property
    def duty(self) -> float:
        """The duty cycle last written (0-1)."""
        return self._duty

    @property
    def period_ns(self) -> int:
        """The PWM period in nanoseconds (the number of duty steps)."""
        return self._period_ns

    def quantize(self, duty: float) -> int:
        """Return the duty in nanoseconds that ``duty`` is written as."""
        ns = round(_check_duty(duty) * self._period_ns)
        return ns if self._active_high else self._period_ns - ns

    def set_duty(self, duty: float) -> None:
        """Write the duty cycle, in nanoseconds of the period."""
        ns = self.quantize(duty)
        self._duty = duty
        if ns != self._duty_ns:
            self._write_duty_ns(ns)

    def close(self, *, turn_off: bool) -> None:
        """Leave the PWM running at its level, or turn it off and unexport it."""
        if not turn_off:
            return
        self.set_duty(0.0)
        if not self._active_high:
            return  # keep driving "off" (see the class docstring)
        self._write(self._dir / "enable", "0")
        channel = self._dir.name.removeprefix("pwm")
        try:
            self._write(self._chip_dir / "unexport", channel)
        except OutputError:
            _LOGGER.debug("unexport of %s failed", self._dir, exc_info=True)

    def _wait_until_writable(self, timeout: float) -> None:
        """Wait for the kernel to create the channel's files and for udev to open them."""
        files = [self._dir / name for name in ("period", "duty_cycle", "enable")]
        deadline = time.monotonic() + timeout
        while True:
            missing = [path for path in files if not path.exists()]
            locked = [path for path in files if path.exists() and not os.access(path, os.W_OK)]
            if not missing and not locked:
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if missing:
            raise OutputError(
                f"exporting {self._dir} timed out: {missing[0].name} did not appear "
                f"within {timeout:g} s"
            )
        raise OutputError(
            f"exported {self._dir}, but after {timeout:g} s {locked[0]} is still not "
            f"writable by this user (uid {os.geteuid()}): udev did not grant access. "
            f"{_UDEV_HINT}"
        )

    def _read_int(self, name: str) -> int | None:
        try:
            return int((self._dir / name).read_text().strip())
        except (OSError, ValueError):
            return None

    def _write_duty_ns(self, ns: int) -> None:
        self._write(self._dir / "duty_cycle", str(ns))
        self._duty_ns = ns

    @staticmethod
    def _write(path: Path, value: str) -> None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        except OSError as err:
            hint = f" ({_UDEV_HINT})" if err.errno == errno.EACCES else ""
            raise OutputError(f"cannot open {path}: {err.strerror}{hint}") from err
        try:
            os.write(fd, value.encode())
        except OSError as err:
            hint = " (value out of range)" if err.errno == errno.EINVAL else ""
            raise OutputError(f"cannot write {value} to {path}: {err.strerror}{hint}") from err
        finally:
            os.close(fd)


class MultiOutput:
    """Several outputs driven together, one per colour channel (in the mixer's order).

    :meth:`set_duties` writes every channel; as an :class:`Output` it reports the
    largest duty and :meth:`set_duty` drives all channels alike.
    """

    def __init__(self, outputs: Mapping[str, Output]) -> None:
        """Drive ``outputs`` (name to output, in channel order)."""
        if len(outputs) < 2:
            raise ValueError("a multi-channel output needs at least two channels")
        self._outputs = dict(outputs)

    @property
    def channels(self) -> dict[str, Output]:
        """The channels' outputs by name."""
        return dict(self._outputs)

    @property
    def description(self) -> str:
        """Each channel's name and description."""
        return "; ".join(f"{name}: {out.description}" for name, out in self._outputs.items())

    @property
    def duty(self) -> float:
        """The largest duty of the channels."""
        return max(out.duty for out in self._outputs.values())

    @property
    def duties(self) -> list[float]:
        """Each channel's duty, in channel order."""
        return [out.duty for out in self._outputs.values()]

    def set_duty(self, duty: float) -> None:
        """Drive every channel at ``duty``."""
        for out in self._outputs.values():
            out.set_duty(duty)

    def set_duties(self, duties: Sequence[float]) -> None:
        """Drive the channels at ``duties`` (in channel order); every channel is tried."""
        if len(duties) != len(self._outputs):
            raise ValueError(f"expected {len(self._outputs)} duties, got {len(duties)}")
        error: OutputError | OSError | None = None
        for out, duty in zip(self._outputs.values(), duties, strict=True):
            try:
                out.set_duty(duty)
            except (OutputError, OSError) as err:
                error = error or err
        if error is not None:
            raise error

    def close(self, *, turn_off: bool) -> None:
        """Release every channel."""
        for out in self._outputs.values():
            out.close(turn_off=turn_off)


def mock_pin_factory() -> Factory:
    """Return gpiozero's ``MockFactory`` with PWM-capable mock pins (for ``--mock``)."""
    from gpiozero.pins.mock import MockFactory, MockPWMPin  # noqa: PLC0415

    return MockFactory(pin_class=MockPWMPin)
