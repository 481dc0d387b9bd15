"""Sunrise ramp quality through each output backend, and the engine's real tick timing.

Part 1 (simulated time, no waiting): a 30-minute sunrise from brightness 0 to 255 is
sampled at the engine's tick times (n / 50 s, n = 0..90000) with the real ``Ramp`` and
``Dimmer("cie")``, and each duty goes through one backend's quantisation:

* ``sysfs``: the real ``SysfsPwmOutput.quantize`` (2 kHz, 500000 ns period) on a fake
  sysfs tree; the emitted duty is ns / period.
* ``gpiozero-lgpio``: a model of gpiozero's lgpio pin factory (what a Pi uses by
  default), which sends ``int(duty * 100)`` percent to ``lgpio.tx_pwm``.
* ``gpiozero-mock``: the real ``GpiozeroOutput`` on ``MockFactory(pin_class=MockPWMPin)``,
  reading back ``led.pin.state`` (the float duty, i.e. limited only by the engine).
* ``8-bit``: ``round(duty * 255) / 255``, a naive 8-bit PWM, the baseline.

Part 2 (real time, about 20 s): the real ``LightController`` runs a 10 s sunrise at
50 Hz on a mock ``GpiozeroOutput``; the duty-change times recorded by the mock pin are
compared with the ideal 20 ms schedule, and against a naive ``asyncio.sleep(0.02)`` loop.

Part 3 (simulated time): a 30-minute colour sunrise (the ``sunrise`` path to 4000 K) on
CCT, RGB and RGBW channels with the real ``Ramp``, ``Mixer`` and ``Dimmer``, each
channel's duty through ``SysfsPwmOutput``'s quantisation (500000 steps); the light the
channels make (tristimulus sum of the calibrated channels) in CIELAB per tick: the L*
step, the CIEDE2000 step between consecutive ticks and between ticks a second apart,
the largest hue jump (where the chroma is at least 2). Beside it, measured the same way,
a naive controller: 8-bit duty per channel faded linearly in time from off to the same
white (what a typical LED strip controller does).

Part 4 (real time): CPU time of the 50 Hz engine (the real ``LightController``) during a
sunrise with 4 channels (RGBW, ``MultiOutput`` of mock pins) against 1 channel.

``--part N`` runs one part (e.g. ``--part 3``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from _meta import git_revision
from gpiozero.pins.mock import MockFactory, MockPWMPin

from daybreak_device.channels import channel_specs, parse_channels
from daybreak_device.colour import Colour, Mixer
from daybreak_device.dimming import Dimmer, luminance_to_lightness
from daybreak_device.light import LightController, Ramp
from daybreak_device.output import GpiozeroOutput, MultiOutput, Output, SysfsPwmOutput
from daybreak_device.protocol import Curve
from daybreak_device.statefile import StateFile

TICK_RATE = 50.0
SUNRISE_S = 1800.0
TICKS = round(SUNRISE_S * TICK_RATE)  # 90000; samples are n = 0..TICKS
CURVES: tuple[Curve, ...] = ("linear", "ease_in_out")
SYSFS_HZ = 2000.0
GPIOZERO_HZ = 1000.0  # the device's default gpiozero frequency
GPIO_PIN = 18
BASELINE = "8-bit"

# The goals for the sysfs backend.
GOAL_FIRST_STEP_L = 0.25
GOAL_MAX_STEP_L = 0.5
GOAL_MAX_HOLD_S = 5.0

TIMING_S = 10.0


# -- part 1: quantisation ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    note: str
    emit: Callable[[float], float]  # duty asked for -> duty the hardware would emit


@dataclass(frozen=True, slots=True)
class Quality:
    first_step: float  # L* of the first non-zero emitted level
    max_step: float  # largest L* step between consecutive distinct emitted levels
    max_step_at: float  # time (s) of that step
    max_hold: float  # longest time (s) one emitted level is held, dark hold included
    max_hold_from: float  # when that hold started (s)
    levels: int  # distinct emitted levels
    dark_hold: float  # time (s) the output stays at 0 before the first step


def make_fake_sysfs(root: Path) -> None:
    """Create the minimal sysfs PWM tree ``SysfsPwmOutput`` needs (channel 0 exported)."""
    chip = root / "pwmchip0"
    (chip / "pwm0").mkdir(parents=True)
    for name, value in (("export", ""), ("unexport", ""), ("npwm", "2")):
        (chip / name).write_text(value)
    for name in ("period", "duty_cycle", "enable"):
        (chip / "pwm0" / name).write_text("0")


def sysfs_backend(root: Path) -> tuple[Backend, SysfsPwmOutput]:
    make_fake_sysfs(root)
    output = SysfsPwmOutput(chip=0, channel=0, frequency=SYSFS_HZ, root=root)
    period = output.period_ns

    def emit(duty: float) -> float:
        return output.quantize(duty) / period

    note = f"real SysfsPwmOutput.quantize, {SYSFS_HZ:g} Hz, period {period} ns (fake sysfs tree)"
    return Backend("sysfs", note, emit), output


def lgpio_backend() -> Backend:
    def emit(duty: float) -> float:
        return int(duty * 100) / 100

    note = "MODEL of gpiozero's lgpio pin factory: tx_pwm(int(duty * 100)) (truncates to 1 %)"
    return Backend("gpiozero-lgpio", note, emit)


def mock_backend() -> tuple[Backend, GpiozeroOutput]:
    output = GpiozeroOutput(GPIO_PIN, GPIOZERO_HZ, pin_factory=MockFactory(pin_class=MockPWMPin))
    pin = output.led.pin

    def emit(duty: float) -> float:
        output.set_duty(duty)
        return float(pin.state)

    note = "real GpiozeroOutput, MockFactory(MockPWMPin), read back led.pin.state"
    return Backend("gpiozero-mock", note, emit), output


def eight_bit_backend() -> Backend:
    def emit(duty: float) -> float:
        return round(duty * 255) / 255

    return Backend(BASELINE, "baseline: round(duty * 255) / 255, a naive 8-bit PWM", emit)


def sunrise_duties(curve: Curve) -> list[float]:
    """Duty the engine asks for at each tick of a 30-minute 0 -> 255 sunrise."""
    ramp = Ramp("sunrise", 0.0, 255.0, SUNRISE_S, curve, 0.0)
    dimmer = Dimmer(curve="cie")
    return [dimmer.duty(ramp.level_at(n / TICK_RATE)) for n in range(TICKS + 1)]


def measure(emitted: Sequence[float]) -> Quality:
    """Step and hold figures of an emitted duty sequence sampled every tick."""
    if emitted[0] != 0.0:
        raise ValueError("the sunrise should start dark")
    prev_level = emitted[0]
    prev_l = luminance_to_lightness(prev_level)
    run_start = 0  # tick at which the current level was first emitted
    first_step = math.nan
    dark_hold = math.nan
    max_step, max_step_at = 0.0, 0.0
    max_hold, max_hold_from = 0.0, 0.0
    levels = {prev_level}
    for n in range(1, len(emitted)):
        level = emitted[n]
        if level == prev_level:
            continue
        lightness = luminance_to_lightness(level)
        if prev_level == 0.0 and math.isnan(first_step):
            first_step = lightness
            dark_hold = n / TICK_RATE
        step = abs(lightness - prev_l)
        if step > max_step:
            max_step, max_step_at = step, n / TICK_RATE
        hold = (n - run_start) / TICK_RATE
        if hold > max_hold:
            max_hold, max_hold_from = hold, run_start / TICK_RATE
        levels.add(level)
        prev_level, prev_l, run_start = level, lightness, n
    # The last level counts as held until the sunrise ends (the last tick).
    hold = (len(emitted) - 1 - run_start) / TICK_RATE
    if hold > max_hold:
        max_hold, max_hold_from = hold, run_start / TICK_RATE
    return Quality(
        first_step, max_step, max_step_at, max_hold, max_hold_from, len(levels), dark_hold
    )


def ratio(value: float, base: float) -> str:
    if base == 0 or math.isnan(value) or math.isnan(base):
        return "n/a"
    return f"{value / base:.3g}x"


def print_quality_table(results: dict[tuple[str, str], Quality], backends: list[Backend]) -> None:
    head = (
        f"{'backend':<15} {'curve':<12}"
        f" {'1st step L*':>11} {'vs 8b':>7}"
        f" {'max step L*':>11} {'@ t s':>8} {'vs 8b':>7}"
        f" {'max hold s':>10} {'from t s':>8} {'vs 8b':>7}"
        f" {'dark s':>7} {'levels':>7} {'vs 8b':>7}"
    )
    print(head)
    print("-" * len(head))
    for curve in CURVES:
        base = results[(BASELINE, curve)]
        for backend in backends:
            q = results[(backend.name, curve)]
            print(
                f"{backend.name:<15} {curve:<12}"
                f" {q.first_step:>11.4g} {ratio(q.first_step, base.first_step):>7}"
                f" {q.max_step:>11.4g} {q.max_step_at:>8.2f}"
                f" {ratio(q.max_step, base.max_step):>7}"
                f" {q.max_hold:>10.2f} {q.max_hold_from:>8.2f}"
                f" {ratio(q.max_hold, base.max_hold):>7}"
                f" {q.dark_hold:>7.2f} {q.levels:>7d} {ratio(q.levels, base.levels):>7}"
            )
        print()


def print_goals(results: dict[tuple[str, str], Quality]) -> bool:
    print(
        f"Goals for sysfs: first visible step <= {GOAL_FIRST_STEP_L} L*, "
        f"largest step <= {GOAL_MAX_STEP_L} L*, no level held > {GOAL_MAX_HOLD_S:g} s"
    )
    met_default = False
    for curve in CURVES:
        q = results[("sysfs", curve)]
        checks = (
            ("first step", q.first_step, GOAL_FIRST_STEP_L, "L*"),
            ("largest step", q.max_step, GOAL_MAX_STEP_L, "L*"),
            ("longest hold", q.max_hold, GOAL_MAX_HOLD_S, "s"),
        )
        parts = [
            f"{label} {value:.4g} {unit} {'OK' if value <= limit else 'FAIL'}"
            for label, value, limit, unit in checks
        ]
        met = all(value <= limit for _, value, limit, _ in checks)
        if curve == "linear":
            met_default = met
        default = " (default curve)" if curve == "linear" else ""
        print(f"  {curve}{default}: {'; '.join(parts)} -> {'MET' if met else 'NOT MET'}")
    return met_default


def run_quality() -> bool:
    print(f"== Part 1: 30-minute sunrise 0 -> 255, {TICKS + 1} ticks at {TICK_RATE:g} Hz ==")
    print("Dimmer: CIE 1931 L* (default); L* below is of the duty the backend emits.")
    start = time.perf_counter()
    results: dict[tuple[str, str], Quality] = {}
    with tempfile.TemporaryDirectory(prefix="daybreak-bench-") as tmp:
        sysfs, sysfs_output = sysfs_backend(Path(tmp) / "pwm")
        backends = [sysfs, lgpio_backend(), eight_bit_backend()]
        for curve in CURVES:
            duties = sunrise_duties(curve)
            mock, mock_output = mock_backend()  # a fresh pin for each curve
            try:
                for backend in [*backends, mock]:
                    results[(backend.name, curve)] = measure([backend.emit(d) for d in duties])
            finally:
                mock_output.close(turn_off=True)
        sysfs_output.close(turn_off=True)
        order = [sysfs, backends[1], mock, backends[2]]
    for backend in order:
        print(f"  {backend.name:<15} {backend.note}")
    print(
        "  Per-tick change with a perfect output: linear "
        f"{100 / TICKS:.5f} L*/tick; gpiozero-mock shows that engine-only limit."
    )
    print(
        "  'max hold' includes the dark hold at 0 before the first step ('dark s');"
        " 'vs 8b' = figure / 8-bit figure from this run."
    )
    print()
    print_quality_table(results, order)
    met = print_goals(results)
    print(f"(part 1 took {time.perf_counter() - start:.1f} s)")
    print()
    return met


# -- part 2: real tick timing -------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def clock_offset() -> float:
    """monotonic - wall clock, from the tightest of a few back-to-back reads."""
    best = (math.inf, 0.0)
    for _ in range(20):
        a = time.monotonic()
        wall = time.time()
        b = time.monotonic()
        best = min(best, (b - a, (a + b) / 2 - wall))
    return best[1]


@dataclass(frozen=True, slots=True)
class Timing:
    writes: int
    last_tick: int
    intervals_ms: list[float]
    lateness_ms: list[float]
    drift_ms: float  # lateness of the last tick


async def engine_timing() -> Timing:
    """Run the real controller through a TIMING_S sunrise; time the mock pin's changes."""
    output = GpiozeroOutput(GPIO_PIN, GPIOZERO_HZ, pin_factory=MockFactory(pin_class=MockPWMPin))
    pin = output.led.pin
    period = 1.0 / TICK_RATE
    with tempfile.TemporaryDirectory(prefix="daybreak-bench-") as tmp:
        state_file = Path(tmp) / "state.json"
        controller = LightController(
            output, Dimmer(), StateFile(state_file), tick_rate=TICK_RATE, progress_interval=1.0
        )
        await controller.start()
        finished = asyncio.Event()

        def on_change() -> None:
            if controller.snapshot()["sunrise"] is None:
                finished.set()

        controller.add_listener(on_change)
        # MockPin timestamps are deltas from the previous change; clear_states() sets
        # the origin, so bracket it to place them on the monotonic clock.
        before = time.monotonic()
        pin.clear_states()
        origin = (before + time.monotonic()) / 2
        await controller.start_sunrise(
            {
                "duration": TIMING_S,
                "target_brightness": 255.0,
                "start_brightness": 0.0,
                "curve": "linear",
            }
        )
        saved = json.loads(await asyncio.to_thread(state_file.read_text))
        # The engine anchors tick 0 at started_at (wall clock) moved to the loop's
        # monotonic clock, exactly as done here.
        anchor = saved["ramp"]["started_at"] + clock_offset()
        await asyncio.wait_for(finished.wait(), TIMING_S + 5)
        await controller.stop()
    states = list(pin.states)[1:]  # [0] is the clear_states() baseline
    output.close(turn_off=True)
    times, t = [], origin
    for state in states:
        t += state.timestamp
        times.append(t)
    # Replay the engine's tick numbering (it skips ticks it is too late for).
    ticks = [0]
    for previous in times[:-1]:
        ticks.append(max(ticks[-1] + 1, math.floor((previous - anchor) / period) + 1))
    lateness = [(tm - (anchor + n * period)) * 1e3 for tm, n in zip(times, ticks, strict=True)]
    intervals = [(b - a) * 1e3 for a, b in itertools.pairwise(times)]
    return Timing(len(times), ticks[-1], intervals, lateness, lateness[-1])


async def naive_timing(ticks: int) -> Timing:
    """``await asyncio.sleep(period)`` in a loop, timed on the loop's clock."""
    loop = asyncio.get_running_loop()
    period = 1.0 / TICK_RATE
    start = loop.time()
    times = [start]
    for _ in range(ticks):
        await asyncio.sleep(period)
        times.append(loop.time())
    lateness = [(tm - (start + n * period)) * 1e3 for n, tm in enumerate(times)]
    intervals = [(b - a) * 1e3 for a, b in itertools.pairwise(times)]
    return Timing(len(times), ticks, intervals, lateness, lateness[-1])


def print_timing(label: str, timing: Timing) -> None:
    iv, late = timing.intervals_ms, timing.lateness_ms
    skipped = timing.last_tick + 1 - timing.writes
    print(
        f"{label:<24} {timing.writes:>6d} {skipped:>7d}"
        f" {percentile(iv, 50):>7.3f} {percentile(iv, 99):>7.3f} {max(iv):>7.3f}"
        f" {min(late):>7.3f} {percentile(late, 50):>7.3f} {percentile(late, 99):>7.3f}"
        f" {max(late):>8.3f} {timing.drift_ms:>9.3f}"
    )


async def run_timing() -> None:
    print(
        f"== Part 2: real time, {TIMING_S:g} s sunrise at {TICK_RATE:g} Hz "
        f"(ideal interval {1e3 / TICK_RATE:g} ms) =="
    )
    engine = await engine_timing()
    naive = await naive_timing(round(TIMING_S * TICK_RATE))
    print("Times in ms. lateness = actual - ideal schedule (tick n at start + n * 20 ms);")
    print("drift = lateness of the last tick (engine: the final write at the end of the ramp).")
    head = (
        f"{'loop':<24} {'ticks':>6} {'skipped':>7}"
        f" {'ivl p50':>7} {'ivl p99':>7} {'ivl max':>7}"
        f" {'lateMin':>7} {'late50':>7} {'late99':>7} {'late max':>8} {'drift':>9}"
    )
    print(head)
    print("-" * len(head))
    print_timing("LightController engine", engine)
    print_timing("naive asyncio.sleep(0.02)", naive)
    print(
        "  engine: duty-change times from the mock pin (led.pin.states); "
        "naive: loop.time() after each sleep."
    )


# -- part 3: colour sunrise ---------------------------------------------------------------

COLOUR_SETUPS = {
    "cct": "warm=0,cool=1",
    "rgb": "red=0,green=1,blue=2",
    "rgbw": "red=0,green=1,blue=2,white=3",
}
TARGET_KELVIN = 4000.0
#: Where the sunrise path starts on RGB(W) (the device's default) and on CCT (warm white).
DAWN_KELVIN = {"cct": 2700.0, "rgb": 1000.0, "rgbw": 1000.0}
GOAL_DE_TICK = 0.5
GOAL_L_TICK = 0.5
GOAL_DE_SECOND = 1.0
#: Hue is only meaningful with some chroma (near black or grey it is noise).
HUE_MIN_CHROMA = 2.0
SYSFS_STEPS = 500_000


def _lab(xyz: Sequence[float], white: Sequence[float]) -> tuple[float, float, float]:
    def f(t: float) -> float:
        return math.cbrt(t) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = (f(v / w) for v, w in zip(xyz, white, strict=True))
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def ciede2000(lab1: Sequence[float], lab2: Sequence[float]) -> float:
    """CIEDE2000 colour difference (Sharma, Wu and Dalal 2005), kL = kC = kH = 1."""
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c1, c2 = math.hypot(a1, b1), math.hypot(a2, b2)
    cbar7 = ((c1 + c2) / 2) ** 7
    g = 0.5 * (1 - math.sqrt(cbar7 / (cbar7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dlp, dcp = l2 - l1, c2p - c1p
    if c1p * c2p == 0:
        dhp = 0.0
    elif abs(h2p - h1p) <= 180:
        dhp = h2p - h1p
    else:
        dhp = h2p - h1p - 360 if h2p > h1p else h2p - h1p + 360
    dhp_big = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dhp / 2))
    lbp, cbp = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hbp = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hbp = (h1p + h2p) / 2
    else:
        hbp = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(hbp - 30))
        + 0.24 * math.cos(math.radians(2 * hbp))
        + 0.32 * math.cos(math.radians(3 * hbp + 6))
        - 0.20 * math.cos(math.radians(4 * hbp - 63))
    )
    dtheta = 30 * math.exp(-(((hbp - 275) / 25) ** 2))
    rc = 2 * math.sqrt(cbp**7 / (cbp**7 + 25**7))
    sl = 1 + 0.015 * (lbp - 50) ** 2 / math.sqrt(20 + (lbp - 50) ** 2)
    sc = 1 + 0.045 * cbp
    sh = 1 + 0.015 * cbp * t
    rt = -math.sin(math.radians(2 * dtheta)) * rc
    return math.sqrt(
        (dlp / sl) ** 2 + (dcp / sc) ** 2 + (dhp_big / sh) ** 2 + rt * (dcp / sc) * (dhp_big / sh)
    )


@dataclass(frozen=True, slots=True)
class ColourQuality:
    max_l_step: float  # largest |ΔL*| between consecutive ticks
    max_de: float  # largest CIEDE2000 between consecutive ticks
    max_de_at: float  # when (s)
    max_de_second: float  # largest CIEDE2000 between ticks 1 s apart
    max_hue_jump: float  # largest hue change (degrees) between consecutive ticks (C* >= 2)
    first_hue: float  # hue (degrees) of the first tick with C* >= 2 (red ~ 40, yellow ~ 90)
    first_blue: float  # blue share of the light (Z / (X+Y+Z)) at the first visible tick


def _quantised(duty: float, steps: int) -> float:
    return round(duty * steps) / steps


def measure_colour(
    xyz_per_tick: Sequence[tuple[float, float, float]], white: Sequence[float]
) -> ColourQuality:
    labs = [_lab(xyz, white) for xyz in xyz_per_tick]
    max_l = max_de = max_de_at = max_hue = 0.0
    first_hue = first_blue = math.nan
    for n in range(1, len(labs)):
        prev, lab = labs[n - 1], labs[n]
        max_l = max(max_l, abs(lab[0] - prev[0]))
        de = ciede2000(prev, lab)
        if de > max_de:
            max_de, max_de_at = de, n / TICK_RATE
        c0, c1 = math.hypot(prev[1], prev[2]), math.hypot(lab[1], lab[2])
        if c1 >= HUE_MIN_CHROMA and math.isnan(first_hue):
            first_hue = math.degrees(math.atan2(lab[2], lab[1])) % 360
        if math.isnan(first_blue) and sum(xyz_per_tick[n]) > 0:
            first_blue = xyz_per_tick[n][2] / sum(xyz_per_tick[n])
        if c0 >= HUE_MIN_CHROMA and c1 >= HUE_MIN_CHROMA:
            jump = abs(math.degrees(math.atan2(lab[2], lab[1]) - math.atan2(prev[2], prev[1])))
            max_hue = max(max_hue, min(jump, 360 - jump))
    step = round(TICK_RATE)
    max_second = max(ciede2000(labs[n - step], labs[n]) for n in range(step, len(labs)))
    return ColourQuality(max_l, max_de, max_de_at, max_second, max_hue, first_hue, first_blue)


def colour_sunrise(kind: str) -> tuple[ColourQuality, ColourQuality, int]:
    """Our colour sunrise and the naive 8-bit fade on ``kind`` channels, measured alike."""
    specs = channel_specs(parse_channels(COLOUR_SETUPS[kind]), {})
    mixer = Mixer([spec.mixer_channel() for spec in specs])
    full = [
        (
            spec.xy[0] / spec.xy[1] * spec.lumens,
            spec.lumens,
            (1 - sum(spec.xy)) / spec.xy[1] * spec.lumens,
        )
        for spec in specs
    ]

    def light(duties: Sequence[float]) -> tuple[float, float, float]:
        x, y, z = (sum(d * f[i] for d, f in zip(duties, full, strict=True)) for i in range(3))
        return x, y, z

    dimmer = Dimmer(curve="cie")
    target = Colour.from_kelvin(TARGET_KELVIN)
    ramp = Ramp(
        "sunrise",
        0.0,
        255.0,
        SUNRISE_S,
        "linear",
        0.0,
        None,
        Colour.from_kelvin(DAWN_KELVIN[kind]),
        target,
        "sunrise",
    )
    ours: list[tuple[float, float, float]] = []
    for n in range(TICKS + 1):
        elapsed = n / TICK_RATE
        colour = ramp.colour_at(elapsed)
        assert colour is not None
        duties = mixer.duties(colour.xy, dimmer.luminance(ramp.level_at(elapsed)))
        ours.append(light([_quantised(d, SYSFS_STEPS) for d in duties]))
    end_duties = mixer.duties(target.xy, 1.0)
    white = light(end_duties)  # CIELAB's white: the sunrise's last light
    # Naive: each channel's 8-bit duty from 0 to the end's, linear in time.
    naive = [
        light([round(n / TICKS * d * 255) / 255 for d in end_duties]) for n in range(TICKS + 1)
    ]
    return measure_colour(ours, white), measure_colour(naive, white), len(specs)


def run_colour() -> bool:
    print(
        f"== Part 3: 30-minute colour sunrise to {TARGET_KELVIN:g} K ('sunrise' path), "
        f"{TICKS + 1} ticks at {TICK_RATE:g} Hz =="
    )
    print(
        "daybreak: real Ramp + Mixer + Dimmer('cie'), each channel quantised like sysfs "
        f"({SYSFS_STEPS} steps);\n"
        "naive: 8-bit duty per channel, linear in time, off -> the same white."
    )
    print("CIELAB relative to the sunrise's last light; hue jumps where C* >= 2.")
    head = (
        f"{'channels':<8} {'method':<9} {'max dL*/tick':>12} {'max dE00/tick':>13} {'@ t s':>8}"
        f" {'max dE00/1 s':>12} {'max hue jump':>12} {'1st hue deg':>11} {'1st blue share':>14}"
    )
    print(head)
    print("-" * len(head))
    met = True
    for kind in COLOUR_SETUPS:
        ours, naive = colour_sunrise(kind)[:2]
        for label, q in (("daybreak", ours), ("naive", naive)):
            print(
                f"{kind:<8} {label:<9} {q.max_l_step:>12.4f} {q.max_de:>13.4f} {q.max_de_at:>8.2f}"
                f" {q.max_de_second:>12.4f} {q.max_hue_jump:>12.3f} {q.first_hue:>11.1f}"
                f" {q.first_blue:>14.3f}"
            )
        ok = (
            ours.max_de <= GOAL_DE_TICK
            and ours.max_l_step <= GOAL_L_TICK
            and ours.max_de_second <= GOAL_DE_SECOND
        )
        met = met and ok
        print(
            f"  {kind} goals (dE00/tick <= {GOAL_DE_TICK}, dL*/tick <= {GOAL_L_TICK}, "
            f"dE00/1 s <= {GOAL_DE_SECOND}): {'MET' if ok else 'NOT MET'}"
        )
    print("  1st hue: CIELAB hue angle of the first light with colour (red ~30-40, orange ~50-70).")
    return met


# -- part 4: CPU of the engine, 4 channels vs 1 ---------------------------------------------

CPU_S = 10.0


async def engine_cpu(channels: str | None) -> float:
    """Process CPU seconds per second of sunrise of the 50 Hz engine on mock pins."""
    factory = MockFactory(pin_class=MockPWMPin)
    mixer: Mixer | None = None
    output: Output
    if channels is None:
        output = GpiozeroOutput(GPIO_PIN, GPIOZERO_HZ, pin_factory=factory)
    else:
        pairs = parse_channels(channels)
        output = MultiOutput(
            {
                name: GpiozeroOutput(int(pin), GPIOZERO_HZ, pin_factory=factory)
                for name, pin in pairs
            }
        )
        mixer = Mixer([spec.mixer_channel() for spec in channel_specs(pairs, {})])
    with tempfile.TemporaryDirectory() as state_dir:
        store = StateFile(Path(state_dir) / "state.json")
        controller = LightController(
            output, Dimmer(), store, mixer=mixer, tick_rate=TICK_RATE, progress_interval=1.0
        )
        await controller.start()
        command: dict[str, object] = {
            "duration": CPU_S,
            "target_brightness": 255.0,
            "start_brightness": 0.0,
            "curve": "linear",
            "color_path": "sunrise",
            "start_kelvin": None,
            "target_kelvin": TARGET_KELVIN,
        }
        cpu0 = time.process_time()
        await controller.start_sunrise(command)  # type: ignore[arg-type]
        await asyncio.sleep(CPU_S + 0.2)
        cpu = time.process_time() - cpu0
        await controller.stop()
        await store.close()
    output.close(turn_off=True)
    factory.reset()
    return cpu / CPU_S


async def run_cpu() -> bool:
    print(f"== Part 4: CPU of the {TICK_RATE:g} Hz engine, a {CPU_S:g} s sunrise, mock pins ==")
    single = await engine_cpu(None)
    four = await engine_cpu("red=17,green=27,blue=22,white=23")
    print(f"{'channels':<10} {'CPU ms per s':>12} {'vs 1 channel':>12}")
    print(f"{'1':<10} {single * 1e3:>12.2f} {'1x':>12}")
    print(f"{'4 (RGBW)':<10} {four * 1e3:>12.2f} {four / single:>11.2f}x")
    ok = four <= 2 * single
    print(f"  goal: 4 channels <= 2x the single channel: {'MET' if ok else 'NOT MET'}")
    return ok


# -- main -----------------------------------------------------------------------------


def main() -> int:
    start = time.perf_counter()
    print("# Daybreak bench: sunrise ramp quality and tick timing")
    print(f"date:    {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(f"machine: {platform.platform()} ({platform.machine()}), cpus={os.cpu_count()}")
    print(f"python:  {platform.python_implementation()} {platform.python_version()}")
    print(f"git:     {git_revision()}")
    print()
    part = int(sys.argv[sys.argv.index("--part") + 1]) if "--part" in sys.argv else None
    if part in (None, 1):
        met = run_quality()
        print(f"sysfs goals (default linear curve): {'MET' if met else 'NOT MET'}")
    if part in (None, 2):
        asyncio.run(run_timing())
    if part in (None, 3):
        print()
        colour = run_colour()
        print(f"colour sunrise goals: {'MET' if colour else 'NOT MET'}")
    if part in (None, 4):
        print()
        cpu = asyncio.run(run_cpu())
        print(f"engine CPU goal: {'MET' if cpu else 'NOT MET'}")
    print()
    print(f"(bench took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
