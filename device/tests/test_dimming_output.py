"""Dimming curves and output backends: CIE/gamma/linear, sysfs PWM and gpiozero PWM."""

from __future__ import annotations

import errno
import itertools
import logging
import math
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from daybreak_device.dimming import (
    Dimmer,
    lightness_to_luminance,
    luminance_to_lightness,
)
from daybreak_device.output import GpiozeroOutput, OutputError, SysfsPwmOutput
from helpers import make_fake_sysfs

PERIOD_2KHZ = 500_000


# -- Dimmer -----------------------------------------------------------------------------


def test_cie_reference_values() -> None:
    dimmer = Dimmer()
    # Brightness 127.5 is L* 50: Y = (66 / 116) ** 3.
    assert dimmer.duty(127.5) == pytest.approx(0.18419, abs=1e-4)
    assert dimmer.duty(127.5) == pytest.approx((66 / 116) ** 3, rel=1e-12)
    assert dimmer.duty(255) == 1.0
    assert dimmer.duty(0) == 0.0
    # Below L* 8 the curve is linear: L* 1 (brightness 2.55) is 1 / 903.3.
    assert dimmer.duty(2.55) == pytest.approx(27 / 24389, rel=1e-9)


def test_cie_is_continuous_at_the_linear_segment() -> None:
    below, above = lightness_to_luminance(8.0), lightness_to_luminance(8.0 + 1e-9)
    assert below == pytest.approx(above, abs=1e-9)
    assert luminance_to_lightness(lightness_to_luminance(8.0)) == pytest.approx(8.0)


@pytest.mark.parametrize("curve", ["cie", "gamma", "linear"])
def test_duty_is_strictly_monotonic_and_bounded(curve) -> None:
    dimmer = Dimmer(curve)
    levels = [i / 16 for i in range(255 * 16 + 1)]
    duties = [dimmer.duty(level) for level in levels]
    assert duties[0] == 0.0
    assert duties[-1] == pytest.approx(1.0)
    assert all(0.0 <= d <= 1.0 for d in duties)
    assert all(b > a for a, b in itertools.pairwise(duties))


@pytest.mark.parametrize(
    "dimmer",
    [Dimmer(), Dimmer("gamma", 2.2), Dimmer("gamma", 0.5), Dimmer("linear"), Dimmer(min_duty=0.05)],
    ids=["cie", "gamma2.2", "gamma0.5", "linear", "cie-min-duty"],
)
def test_brightness_is_the_inverse_of_duty(dimmer: Dimmer) -> None:
    for tenth in range(1, 2551):
        brightness = tenth / 10
        assert dimmer.brightness(dimmer.duty(brightness)) == pytest.approx(brightness, abs=1e-6)
    assert dimmer.brightness(0.0) == 0.0
    assert dimmer.brightness(1.0) == pytest.approx(255.0)


def test_gamma_and_linear_values() -> None:
    assert Dimmer("gamma", 2.2).duty(127.5) == pytest.approx(0.5**2.2)
    assert Dimmer("gamma", 1.0).duty(51) == pytest.approx(0.2)
    assert Dimmer("linear").duty(127.5) == pytest.approx(0.5)
    assert Dimmer("linear").duty(255) == 1.0


def test_brightness_outside_the_scale_is_clamped() -> None:
    dimmer = Dimmer()
    assert dimmer.duty(-5) == 0.0
    assert dimmer.duty(300) == 1.0
    assert dimmer.brightness(1.5) == pytest.approx(255.0)
    assert dimmer.brightness(-0.1) == 0.0


def test_min_duty_lifts_the_lowest_level_only() -> None:
    dimmer = Dimmer(min_duty=0.1)
    assert dimmer.duty(0) == 0.0
    assert dimmer.duty(1e-6) == pytest.approx(0.1, abs=1e-6)
    assert dimmer.duty(255) == 1.0
    plain = Dimmer().duty(127.5)
    assert dimmer.duty(127.5) == pytest.approx(0.1 + 0.9 * plain)
    # A duty below min_duty maps to the bottom of the scale, not below it.
    assert dimmer.brightness(0.05) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"curve": "log"}, "dimming curve must be one of cie, gamma, linear"),
        ({"curve": "gamma", "gamma": 0.0}, "gamma must be between 0.1 and 5"),
        ({"curve": "gamma", "gamma": 0.0999}, "gamma must be between 0.1 and 5"),
        ({"curve": "gamma", "gamma": 5.0001}, "gamma must be between 0.1 and 5"),
        ({"gamma": 5.5}, "gamma must be between 0.1 and 5"),
        ({"min_duty": 1.0}, "min_duty must be between 0 and 0.99"),
        ({"min_duty": -0.01}, "min_duty must be between 0 and 0.99"),
        # What the min_duty setting refuses, the dimmer refuses too.
        ({"min_duty": 0.995}, "min_duty must be between 0 and 0.99"),
    ],
)
def test_dimmer_rejects_bad_settings(kwargs, message) -> None:
    with pytest.raises(ValueError) as info:
        Dimmer(**kwargs)
    assert str(info.value) == message  # the whole message, as the CLI shows it


@pytest.mark.parametrize(
    "kwargs",
    [
        {"curve": "gamma", "gamma": 0.1},
        {"curve": "gamma", "gamma": 5.0},
        {"min_duty": 0.0},
        {"min_duty": 0.99},
    ],
)
def test_dimmer_accepts_the_limits(kwargs) -> None:
    """``--gamma 0.1`` and ``--gamma 5`` are allowed, as the error message says."""
    dimmer = Dimmer(**kwargs)
    assert dimmer.duty(0) == 0.0
    assert dimmer.duty(255) == 1.0


# -- SysfsPwmOutput --------------------------------------------------------------------


def read(path: Path) -> str:
    return path.read_text().strip()


@pytest.fixture
def sysfs(tmp_path: Path) -> Path:
    """A fake /sys/class/pwm root with pwmchip0/pwm0 exported (period 0, disabled)."""
    root = tmp_path / "pwm"
    make_fake_sysfs(root)
    return root


def test_sysfs_configures_period_enable_and_duty_in_ns(sysfs: Path) -> None:
    pwm = sysfs / "pwmchip0" / "pwm0"
    output = SysfsPwmOutput(root=sysfs, frequency=2000)
    assert output.period_ns == PERIOD_2KHZ
    assert read(pwm / "period") == "500000"
    assert read(pwm / "enable") == "1"
    assert read(pwm / "duty_cycle") == "0"
    assert output.description == "sysfs pwmchip0/pwm0 2000 Hz"
    output.set_duty(0.5)
    assert read(pwm / "duty_cycle") == "250000"
    assert output.duty == 0.5
    output.set_duty(1.0)
    assert read(pwm / "duty_cycle") == "500000"


def test_sysfs_keeps_full_resolution(sysfs: Path) -> None:
    pwm = sysfs / "pwmchip0" / "pwm0"
    output = SysfsPwmOutput(root=sysfs)
    output.set_duty(1e-5)  # far below 1/255 and 1 %
    assert read(pwm / "duty_cycle") == "5"
    output.set_duty(0.123456)
    assert read(pwm / "duty_cycle") == "61728"
    output.set_duty(2e-6)
    assert read(pwm / "duty_cycle") == "1"
    assert output.duty == 2e-6
    assert output.quantize(0.3) == 150_000


def test_sysfs_does_not_rewrite_an_unchanged_duty(sysfs: Path) -> None:
    pwm = sysfs / "pwmchip0" / "pwm0"
    output = SysfsPwmOutput(root=sysfs)
    output.set_duty(0.5)
    (pwm / "duty_cycle").write_text("sentinel")
    output.set_duty(0.5)
    output.set_duty(0.5 + 1e-12)  # same nanosecond
    assert read(pwm / "duty_cycle") == "sentinel"
    output.set_duty(0.6)
    assert read(pwm / "duty_cycle") == "300000"


def test_sysfs_other_chip_channel_and_frequency(tmp_path: Path) -> None:
    root = tmp_path / "pwm"
    pwm = make_fake_sysfs(root, chip=2, channel=1)
    output = SysfsPwmOutput(root=root, chip=2, channel=1, frequency=25_000)
    assert read(pwm / "period") == "40000"
    output.set_duty(0.25)
    assert read(pwm / "duty_cycle") == "10000"
    assert output.description == "sysfs pwmchip2/pwm1 25000 Hz"


def test_sysfs_active_low_inverts_the_duty(sysfs: Path) -> None:
    pwm = sysfs / "pwmchip0" / "pwm0"
    output = SysfsPwmOutput(root=sysfs, active_high=False)
    assert read(pwm / "duty_cycle") == "500000"  # dark: always high
    output.set_duty(0.25)
    assert read(pwm / "duty_cycle") == "375000"
    assert output.duty == 0.25
    output.set_duty(1.0)
    assert read(pwm / "duty_cycle") == "0"


def test_sysfs_close_turn_off_darkens_disables_and_unexports(sysfs: Path) -> None:
    chip = sysfs / "pwmchip0"
    output = SysfsPwmOutput(root=sysfs)
    output.set_duty(0.7)
    output.close(turn_off=True)
    assert read(chip / "pwm0" / "duty_cycle") == "0"
    assert read(chip / "pwm0" / "enable") == "0"
    assert read(chip / "unexport") == "0"


def test_sysfs_close_without_turn_off_leaves_the_pwm_running(sysfs: Path) -> None:
    chip = sysfs / "pwmchip0"
    output = SysfsPwmOutput(root=sysfs)
    output.set_duty(0.7)
    output.close(turn_off=False)
    assert read(chip / "pwm0" / "duty_cycle") == "350000"
    assert read(chip / "pwm0" / "enable") == "1"
    assert read(chip / "unexport") == ""


def test_sysfs_close_turn_off_active_low_keeps_driving_off(sysfs: Path) -> None:
    # A disabled channel may rest low, which is "on" for an active-low driver.
    chip = sysfs / "pwmchip0"
    output = SysfsPwmOutput(root=sysfs, active_high=False)
    output.set_duty(0.7)
    output.close(turn_off=True)
    assert read(chip / "pwm0" / "duty_cycle") == "500000"
    assert read(chip / "pwm0" / "enable") == "1"
    assert read(chip / "unexport") == ""


def test_sysfs_close_tolerates_a_failing_unexport(sysfs: Path) -> None:
    chip = sysfs / "pwmchip0"
    output = SysfsPwmOutput(root=sysfs)
    (chip / "unexport").unlink()
    (chip / "unexport").mkdir()  # cannot be opened for writing
    output.close(turn_off=True)
    assert read(chip / "pwm0" / "enable") == "0"


@pytest.mark.parametrize("active_high", [True, False])
def test_sysfs_running_channel_keeps_its_duty(sysfs: Path, monkeypatch, active_high) -> None:
    pwm = sysfs / "pwmchip0" / "pwm0"
    (pwm / "period").write_text("500000\n")
    (pwm / "duty_cycle").write_text("123456\n")
    (pwm / "enable").write_text("1\n")
    writes: list[tuple[str, str]] = []
    original = SysfsPwmOutput._write

    def recording(path: Path, value: str) -> None:
        writes.append((path.name, value))
        original(path, value)

    monkeypatch.setattr(SysfsPwmOutput, "_write", staticmethod(recording))
    output = SysfsPwmOutput(root=sysfs, active_high=active_high)
    # No dark flash: the duty is never touched, only enable is (re)asserted.
    assert writes == [("enable", "1")]
    assert read(pwm / "duty_cycle") == "123456"
    expected = 123456 if active_high else PERIOD_2KHZ - 123456
    assert output.duty == pytest.approx(expected / PERIOD_2KHZ)
    output.set_duty(output.duty)  # the same level is not rewritten
    assert writes == [("enable", "1")]


@pytest.mark.parametrize(("period", "duty"), [("500000", ""), ("garbage", "1000"), ("", "")])
def test_sysfs_unreadable_channel_is_reconfigured(sysfs: Path, period, duty) -> None:
    pwm = sysfs / "pwmchip0" / "pwm0"
    (pwm / "period").write_text(period)
    (pwm / "duty_cycle").write_text(duty)
    output = SysfsPwmOutput(root=sysfs)
    assert read(pwm / "period") == "500000"
    assert read(pwm / "duty_cycle") == "0"
    assert read(pwm / "enable") == "1"
    assert output.duty == 0.0


def test_sysfs_other_period_zeroes_duty_before_changing_it(sysfs: Path, monkeypatch) -> None:
    pwm = sysfs / "pwmchip0" / "pwm0"
    (pwm / "period").write_text("1000000\n")
    (pwm / "duty_cycle").write_text("700000\n")
    writes: list[tuple[str, str]] = []
    original = SysfsPwmOutput._write

    def recording(path: Path, value: str) -> None:
        writes.append((path.name, value))
        original(path, value)

    monkeypatch.setattr(SysfsPwmOutput, "_write", staticmethod(recording))
    output = SysfsPwmOutput(root=sysfs)
    # The kernel refuses a period shorter than the duty, so duty goes to 0 first.
    assert writes.index(("duty_cycle", "0")) < writes.index(("period", "500000"))
    assert writes[-1] == ("enable", "1")
    assert read(pwm / "period") == "500000"
    assert read(pwm / "duty_cycle") == "0"
    assert output.duty == 0.0


def test_sysfs_missing_chip_is_a_helpful_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="pwmchip0 does not exist") as info:
        SysfsPwmOutput(root=tmp_path / "nothing")
    assert "dtoverlay=pwm-2chan" in str(info.value)
    make_fake_sysfs(tmp_path / "pwm")
    with pytest.raises(OutputError, match="pwmchip3 does not exist"):
        SysfsPwmOutput(root=tmp_path / "pwm", chip=3)


@pytest.mark.parametrize("frequency", [0, 9.9, 1_000_001])
def test_sysfs_frequency_out_of_range(sysfs: Path, frequency) -> None:
    with pytest.raises(ValueError, match="PWM frequency must be between 10 and 1000000 Hz"):
        SysfsPwmOutput(root=sysfs, frequency=frequency)


@pytest.mark.parametrize("duty", [-0.001, 1.001, math.nan, math.inf])
def test_sysfs_duty_out_of_range(sysfs: Path, duty) -> None:
    output = SysfsPwmOutput(root=sysfs)
    output.set_duty(0.5)
    with pytest.raises(ValueError, match="duty must be between 0 and 1"):
        output.set_duty(duty)
    assert output.duty == 0.5
    assert read(sysfs / "pwmchip0" / "pwm0" / "duty_cycle") == "250000"


def test_sysfs_exports_the_channel_and_waits_for_it(sysfs: Path) -> None:
    chip = sysfs / "pwmchip0"
    shutil.rmtree(chip / "pwm0")
    exported = threading.Event()

    def kernel() -> None:
        """Create pwm0 once "0" is written to export, as the kernel and udev do."""
        deadline = time.monotonic() + 5
        while read(chip / "export") != "0":
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)
        pwm = chip / "pwm0"
        pwm.mkdir()
        (pwm / "period").write_text("0\n")
        (pwm / "enable").write_text("0\n")
        (pwm / "duty_cycle").write_text("0\n")  # last: the output waits for this one
        exported.set()

    thread = threading.Thread(target=kernel)
    thread.start()
    try:
        output = SysfsPwmOutput(root=sysfs, export_timeout=5)
    finally:
        thread.join(6)
    assert exported.is_set()
    assert read(chip / "export") == "0"
    assert read(chip / "pwm0" / "period") == "500000"
    assert read(chip / "pwm0" / "enable") == "1"
    output.set_duty(0.5)
    assert read(chip / "pwm0" / "duty_cycle") == "250000"


def test_sysfs_export_timeout(sysfs: Path) -> None:
    chip = sysfs / "pwmchip0"
    shutil.rmtree(chip / "pwm0")
    started = time.monotonic()
    with pytest.raises(OutputError, match=r"exporting .*pwm0 timed out"):
        SysfsPwmOutput(root=sysfs, export_timeout=0.1)
    assert time.monotonic() - started < 2
    assert read(chip / "export") == "0"


def test_sysfs_write_errors_name_the_file(sysfs: Path, monkeypatch) -> None:
    output = SysfsPwmOutput(root=sysfs)

    def einval(fd: int, data: bytes) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(os, "write", einval)
    with pytest.raises(OutputError, match=r"cannot write 250000 to .*duty_cycle") as info:
        output.set_duty(0.5)
    assert "(value out of range)" in str(info.value)
    monkeypatch.undo()
    (sysfs / "pwmchip0" / "pwm0" / "duty_cycle").unlink()
    (sysfs / "pwmchip0" / "pwm0" / "duty_cycle").mkdir()
    with pytest.raises(OutputError, match=r"cannot open .*duty_cycle"):
        output.set_duty(0.25)


# -- GpiozeroOutput -------------------------------------------------------------------


def test_gpiozero_keeps_the_float_duty_exactly(pin_factory: MockFactory) -> None:
    output = GpiozeroOutput("GPIO18", 1000, pin_factory=pin_factory)
    pin = output.led.pin
    assert pin.frequency == 1000
    for duty in (0.123456789, 1e-7, 0.5, 1.0, 0.0):
        output.set_duty(duty)
        assert pin.state == duty
        assert output.duty == duty
    assert output.description == "gpiozero MockFactory GPIO18 1000 Hz"
    output.close(turn_off=False)


def test_gpiozero_active_low(pin_factory: MockFactory) -> None:
    output = GpiozeroOutput(18, 500, active_high=False, pin_factory=pin_factory)
    pin = output.led.pin
    assert pin.state == 1.0  # dark
    output.set_duty(0.25)
    assert pin.state == pytest.approx(0.75)
    assert output.duty == 0.25
    output.close(turn_off=True)
    assert output.duty == 0.0


def test_gpiozero_close_turn_off(pin_factory: MockFactory) -> None:
    output = GpiozeroOutput("GPIO18", 1000, pin_factory=pin_factory)
    pin = output.led.pin
    output.set_duty(0.4)
    output.close(turn_off=True)
    assert output.duty == 0.0
    assert pin.states[-1].state == 0.0
    assert output.led.closed


def test_gpiozero_lgpio_skips_writes_that_round_to_the_same_percent(caplog) -> None:
    class LGPIOFactory(MockFactory):
        """A mock factory with the name of gpiozero's lgpio factory."""

    factory = LGPIOFactory(pin_class=MockPWMPin)
    caplog.set_level(logging.WARNING, logger="daybreak_device")
    try:
        output = GpiozeroOutput("GPIO18", 1000, pin_factory=factory)
        assert "only 100 duty steps" in caplog.text
        pin = output.led.pin
        output.set_duty(0.101)
        assert pin.state == 0.101
        output.set_duty(0.105)  # int(10.5) == int(10.1): lgpio would send the same
        assert pin.state == 0.101
        assert output.duty == 0.105
        output.set_duty(0.11)
        assert pin.state == 0.11
        output.close(turn_off=True)
        assert pin.states[-1].state == 0.0
    finally:
        factory.reset()


@pytest.mark.parametrize("duty", [-1e-9, 1.0000001, math.nan, 2])
def test_gpiozero_duty_out_of_range(pin_factory: MockFactory, duty) -> None:
    output = GpiozeroOutput("GPIO18", 1000, pin_factory=pin_factory)
    output.set_duty(0.3)
    with pytest.raises(ValueError, match="duty must be between 0 and 1"):
        output.set_duty(duty)
    assert output.led.pin.state == 0.3
    output.close(turn_off=False)


@pytest.mark.parametrize("frequency", [0, 100_001])
def test_gpiozero_frequency_out_of_range(pin_factory: MockFactory, frequency) -> None:
    with pytest.raises(ValueError, match="PWM frequency must be between 1 and 100000 Hz"):
        GpiozeroOutput("GPIO18", frequency, pin_factory=pin_factory)


def test_gpiozero_bad_pin_is_an_output_error(pin_factory: MockFactory) -> None:
    with pytest.raises(OutputError, match="cannot open GPIO GPIO99 with gpiozero"):
        GpiozeroOutput("GPIO99", 1000, pin_factory=pin_factory)
