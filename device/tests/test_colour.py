"""Colour channels end to end: a real device with one mock pin (or sysfs file) per channel.

Expected duties are worked out here, independently of the code under test: white points
from a published Planckian-locus table (CIE 1931 2°, c2 = 1.4388e-2 m·K), the mixture's
chromaticity and luminance from the channels' calibration by plain tristimulus sums, the
CCT mix by a grid search, CIE L* by its definition.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from daybreak_device.config import ConfigError, Settings, load_settings
from daybreak_device.light import Ramp
from daybreak_device.output import MultiOutput, SysfsPwmOutput
from daybreak_device.server import build_output
from helpers import Client, Device, ShiftedClock, make_fake_sysfs

#: Planckian locus, CIE 1931 xy (Wyszecki & Stiles table; illuminant A at 2856 K).
PLANCKIAN = {
    1000: (0.6528, 0.3444),
    2000: (0.5267, 0.4133),
    2700: (0.4599, 0.4106),
    2856: (0.44757, 0.40745),
    3000: (0.4369, 0.4041),
    4000: (0.3805, 0.3768),
    5000: (0.3451, 0.3516),
    6500: (0.3135, 0.3236),
}
CCT = (("warm", "18"), ("cool", "19"))
CCT_CAL = {"warm": {"kelvin": 2700.0, "lumens": 1.0}, "cool": {"kelvin": 6500.0, "lumens": 1.0}}
RGB = (("red", "17"), ("green", "27"), ("blue", "22"))
RGBW = (*RGB, ("white", "23"))
PRIMARIES = {"red": (0.690, 0.308), "green": (0.170, 0.700), "blue": (0.135, 0.060)}
LUMENS = {"red": 0.3, "green": 0.6, "blue": 0.1, "white": 1.0}
RGB_CAL = {name: {"xy": list(xy), "lumens": LUMENS[name]} for name, xy in PRIMARIES.items()}
RGBW_CAL = {**RGB_CAL, "white": {"kelvin": 4000.0, "lumens": 1.0}}


def lightness_to_y(brightness: float) -> float:
    """CIE 1931 L* (brightness 255 = L* 100) to relative luminance, by definition."""
    lightness = 100 * brightness / 255
    return ((lightness + 16) / 116) ** 3 if lightness > 8 else lightness / (24389 / 27)


def xyz(xy: tuple[float, float], luminance: float) -> tuple[float, float, float]:
    x, y = xy
    return x / y * luminance, luminance, (1 - x - y) / y * luminance


def channel_xy(name: str, cal: dict[str, dict[str, Any]]) -> tuple[float, float]:
    entry = cal[name]
    return tuple(entry["xy"]) if "xy" in entry else PLANCKIAN[int(entry["kelvin"])]  # type: ignore[return-value]


def mixture(duties: dict[str, float], cal: dict[str, dict[str, Any]]) -> tuple[float, float, float]:
    """The light the channels make: its chromaticity x, y and its luminance Y."""
    total = [0.0, 0.0, 0.0]
    for name, duty in duties.items():
        for i, value in enumerate(xyz(channel_xy(name, cal), cal[name]["lumens"] * duty)):
            total[i] += value
    s = sum(total)
    return total[0] / s, total[1] / s, total[1]


def cct_duties(target: tuple[float, float], luminance: float) -> tuple[float, float]:
    """Warm and cool duties (equal lumens) whose mix is nearest ``target``: a grid search."""
    warm, cool = xyz(PLANCKIAN[2700], 1.0), xyz(PLANCKIAN[6500], 1.0)
    best, best_f = 9.0, 0.0
    for n in range(10001):
        f = n / 10000
        mix = [(1 - f) * w + f * c for w, c in zip(warm, cool, strict=True)]
        x, y = mix[0] / sum(mix), mix[1] / sum(mix)
        distance = (x - target[0]) ** 2 + (y - target[1]) ** 2
        if distance < best:
            best, best_f = distance, f
    return (1 - best_f) * luminance, best_f * luminance


@pytest.fixture
def start(start_device: Callable[..., Awaitable[Device]]) -> Callable[..., Awaitable[Device]]:
    return start_device


async def set_light(device: Device, **payload: Any) -> dict[str, Any]:
    client = await Client.open(device.url)
    try:
        ack = await client.call("light.set", payload)
    finally:
        await client.sio.disconnect()
    assert ack["ok"], ack
    return ack["state"]


def test_the_locus_matches_the_published_table() -> None:
    from daybreak_device.colour import planckian_xy  # noqa: PLC0415

    for kelvin, (x, y) in PLANCKIAN.items():
        got = planckian_xy(kelvin)
        assert got == pytest.approx((x, y), abs=5e-4), kelvin


# -- CCT ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kelvin", [2700, 3000, 4000, 5000, 6500])
async def test_cct_duties_mix_the_two_whites(start, kelvin: int) -> None:
    device = await start(channels=CCT, calibration=CCT_CAL)
    state = await set_light(device, brightness=255, color_temp_kelvin=kelvin)
    warm, cool = cct_duties(PLANCKIAN[kelvin], 1.0)  # full: one channel's worth
    assert device.duties["warm"] == pytest.approx(warm, abs=0.01)
    assert device.duties["cool"] == pytest.approx(cool, abs=0.01)
    assert state["color_temp_kelvin"] == kelvin
    assert state["brightness"] == 255


async def test_cct_brightness_is_lightness_of_the_total(start) -> None:
    device = await start(channels=CCT, calibration=CCT_CAL)
    for brightness in (10, 128, 200):
        await set_light(device, brightness=brightness, color_temp_kelvin=4000)
        total = device.duties["warm"] + device.duties["cool"]
        assert total == pytest.approx(lightness_to_y(brightness), rel=1e-3)


async def test_cct_clamps_to_its_whites_and_reports_it(start) -> None:
    device = await start(channels=CCT, calibration=CCT_CAL)
    state = await set_light(device, brightness=100, color_temp_kelvin=1500)
    assert state["color_temp_kelvin"] == 2700
    assert device.duties["cool"] == 0.0
    state = await set_light(device, color_temp_kelvin=12000)
    assert state["color_temp_kelvin"] == 6500
    assert device.duties["warm"] == 0.0
    assert device.duties["cool"] == pytest.approx(lightness_to_y(100), rel=1e-3)


async def test_info_has_the_channels(start) -> None:
    device = await start(channels=CCT, calibration=CCT_CAL)
    client = await Client.open(device.url)
    ack = await client.call("info.get")
    await client.sio.disconnect()
    assert ack["info"]["channels"] == {
        "layout": "cct",
        "names": ["warm", "cool"],
        "min_color_temp_kelvin": 2700,
        "max_color_temp_kelvin": 6500,
    }
    assert ack["info"]["output"].startswith("warm: gpiozero")


# -- RGB and RGBW -----------------------------------------------------------------------------


@pytest.mark.parametrize(("channels", "cal"), [(RGB, RGB_CAL), (RGBW, RGBW_CAL)])
@pytest.mark.parametrize("kelvin", [2000, 2700, 4000, 5000, 6500])
async def test_rgb_whites_have_the_locus_chromaticity(start, channels, cal, kelvin: int) -> None:
    device = await start(channels=channels, calibration=cal)
    await set_light(device, brightness=150, color_temp_kelvin=kelvin)
    x, y, _luminance = mixture(device.duties, cal)
    assert (x, y) == pytest.approx(PLANCKIAN[kelvin], abs=1.5e-3)
    assert min(device.duties.values()) >= 0.0


@pytest.mark.parametrize(("channels", "cal"), [(RGB, RGB_CAL), (RGBW, RGBW_CAL)])
async def test_changing_only_the_colour_keeps_the_luminance(start, channels, cal) -> None:
    device = await start(channels=channels, calibration=cal)
    luminances = []
    for colour in (
        {"color_temp_kelvin": 2000},
        {"color_temp_kelvin": 6500},
        {"rgb_color": [255, 0, 0]},
        {"rgb_color": [0, 180, 255]},
    ):
        await set_light(device, brightness=120, **colour)
        luminances.append(mixture(device.duties, cal)[2])
    assert luminances == pytest.approx([luminances[0]] * 4, rel=1e-3)
    # And the brightness is the lightness of that luminance.
    await set_light(device, brightness=60)
    assert mixture(device.duties, cal)[2] / luminances[0] == pytest.approx(
        lightness_to_y(60) / lightness_to_y(120), rel=1e-3
    )


def srgb_xy(rgb: list[int]) -> tuple[float, float]:
    """sRGB (IEC 61966-2-1) to xy, written out here."""
    lin = [
        (c / 255 / 12.92) if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb
    ]
    x = 0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    z = 0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]
    return x / (x + y + z), y / (x + y + z)


@pytest.mark.parametrize("rgb", [[255, 0, 0], [255, 128, 0], [0, 0, 255], [40, 200, 90]])
async def test_rgb_colours_are_shown_and_reported(start, rgb: list[int]) -> None:
    device = await start(channels=RGB, calibration=RGB_CAL)
    state = await set_light(device, brightness=200, rgb_color=rgb)
    x, y, _ = mixture(device.duties, RGB_CAL)
    # sRGB's blue lies just outside these LEDs' triangle: it is clamped to its edge.
    expected = reachable(srgb_xy(rgb), list(PRIMARIES.values()))
    assert (x, y) == pytest.approx(expected, abs=1e-3)
    assert state["color_temp_kelvin"] is None
    # Reported in whole sRGB steps: coarse where two components are small.
    assert srgb_xy(state["rgb_color"]) == pytest.approx(expected, abs=6e-3)


def nearest_on_triangle(
    p: tuple[float, float], corners: list[tuple[float, float]]
) -> tuple[float, float]:
    best: tuple[float, float] = corners[0]
    for i in range(3):
        (ax, ay), (bx, by) = corners[i], corners[(i + 1) % 3]
        t = ((p[0] - ax) * (bx - ax) + (p[1] - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)
        t = min(1, max(0, t))
        q = (ax + t * (bx - ax), ay + t * (by - ay))
        if (q[0] - p[0]) ** 2 + (q[1] - p[1]) ** 2 < (best[0] - p[0]) ** 2 + (best[1] - p[1]) ** 2:
            best = q
    return best


def reachable(p: tuple[float, float], corners: list[tuple[float, float]]) -> tuple[float, float]:
    """``p`` if inside the triangle (same side of every edge), else the nearest edge point."""
    sides = [
        (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
        for a, b in zip(corners, corners[1:] + corners[:1], strict=True)
    ]
    if all(side >= 0 for side in sides) or all(side <= 0 for side in sides):
        return p
    return nearest_on_triangle(p, corners)


async def test_out_of_gamut_is_clamped_to_the_nearest_reachable(start) -> None:
    # A narrow green: sRGB's green primary lies outside this triangle.
    narrow = {**RGB_CAL, "green": {"xy": [0.32, 0.52], "lumens": 0.6}}
    device = await start(channels=RGB, calibration=narrow)
    state = await set_light(device, brightness=200, rgb_color=[0, 255, 0])
    corners = [(0.690, 0.308), (0.32, 0.52), (0.135, 0.060)]
    expected = nearest_on_triangle(srgb_xy([0, 255, 0]), corners)
    x, y, _ = mixture(device.duties, narrow)
    assert (x, y) == pytest.approx(expected, abs=1e-3)
    assert srgb_xy(state["rgb_color"]) == pytest.approx(expected, abs=5e-3)
    assert device.duties["blue"] == pytest.approx(0.0, abs=1e-9)  # on the red-green edge


async def test_colour_on_a_single_channel_is_refused_and_changes_nothing(start) -> None:
    device = await start()
    client = await Client.open(device.url)
    before = (await client.call("state.get"))["state"]
    ack = await client.call("light.set", {"brightness": 100, "color_temp_kelvin": 3000})
    assert ack == {
        "ok": False,
        "error": {
            "code": "invalid_payload",
            "message": "this device has a single channel: it shows no colour",
        },
    }
    assert (await client.call("state.get"))["state"] == before
    assert "color_temp_kelvin" not in before
    assert "channels" not in (await client.call("info.get"))["info"]
    await client.sio.disconnect()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"color_temp_kelvin": 3000, "rgb_color": [1, 2, 3]},
            "give 'color_temp_kelvin' or 'rgb_color', not both",
        ),
        ({"rgb_color": [0, 0, 0]}, "black is no colour"),
        ({"rgb_color": [256, 0, 0]}, "three whole numbers from 0 to 255"),
        ({"rgb_color": [1.5, 0, 0]}, "three whole numbers from 0 to 255"),
        ({"color_temp_kelvin": 999}, "must be between 1000 and 15000"),
        ({"color_temp_kelvin": True}, "expected a number between 1000 and 15000"),
    ],
)
async def test_bad_colours_are_refused(start, payload: dict[str, Any], message: str) -> None:
    device = await start(channels=RGB, calibration=RGB_CAL)
    client = await Client.open(device.url)
    before = dict(device.duties)
    ack = await client.call("light.set", payload)
    await client.sio.disconnect()
    assert ack["ok"] is False
    assert ack["error"]["code"] == "invalid_payload"
    assert message in ack["error"]["message"]
    assert device.duties == before


# -- ramps ----------------------------------------------------------------------------------


async def test_a_transition_fades_colour_and_brightness_together(start) -> None:
    device = await start(channels=CCT, calibration=CCT_CAL)
    await set_light(device, brightness=100, color_temp_kelvin=2700)
    await set_light(device, brightness=200, color_temp_kelvin=6500, transition=1.0)
    await asyncio.sleep(0.5)
    middle = dict(device.duties)
    assert 0.0 < middle["cool"] < lightness_to_y(200)
    assert lightness_to_y(100) < middle["warm"] + middle["cool"] < lightness_to_y(200)
    await asyncio.sleep(0.8)
    assert device.duties == pytest.approx({"warm": 0.0, "cool": lightness_to_y(200)}, rel=1e-3)


async def test_a_sunrise_on_rgb_starts_red_and_ends_at_its_temperature(start) -> None:
    device = await start(channels=RGB, calibration=RGB_CAL)
    controller = device.server.controller
    command: Any = {
        "duration": 60.0,
        "target_brightness": 200.0,
        "start_brightness": 0.0,
        "curve": "linear",
        "color_path": "sunrise",
        "start_kelvin": None,
        "target_kelvin": 4000.0,
    }
    state = await controller.start_sunrise(command, started_at=time.time() - 3)
    duties = device.duties
    assert duties["red"] > 2 * duties["green"] > 0  # the first light is red-orange
    assert duties["blue"] == 0.0  # no blue at dawn
    assert state["sunrise"]["color_path"] == "sunrise"
    assert (state["sunrise"]["start_kelvin"], state["sunrise"]["target_kelvin"]) == (1000, 4000)
    # Linear in mired from 1000 K to 4000 K: 5 % in, about 1040 K.
    assert state["color_temp_kelvin"] == pytest.approx(1e6 / (1000 - 0.05 * 750), abs=5)
    # Near the end: it lands on 4000 K at the target brightness.
    await controller.start_sunrise(command, started_at=time.time() - 59.7)
    for _ in range(50):
        await asyncio.sleep(0.05)
        if controller.snapshot()["sunrise"] is None:
            break
    final = controller.snapshot()
    assert final["sunrise"] is None
    assert final["color_temp_kelvin"] == 4000
    assert final["level"] == 200.0
    x, y, _ = mixture(device.duties, RGB_CAL)
    assert (x, y) == pytest.approx(PLANCKIAN[4000], abs=1.5e-3)


async def test_a_cct_sunrise_starts_warm(start) -> None:
    device = await start(channels=CCT, calibration=CCT_CAL)
    client = await Client.open(device.url)
    ack = await client.call("sunrise.start", {"duration": 600, "target_kelvin": 5000})
    assert ack["state"]["sunrise"]["start_kelvin"] == 2700
    await asyncio.sleep(0.3)
    assert device.duties["warm"] > 0.0
    assert device.duties["cool"] < device.duties["warm"] / 100
    await client.sio.disconnect()


@pytest.mark.parametrize(("path", "kelvin"), [("warm", 2700), ("white", 5000)])
async def test_warm_and_white_paths_hold_one_colour(start, path: str, kelvin: int) -> None:
    device = await start(channels=RGB, calibration=RGB_CAL)
    client = await Client.open(device.url)
    ack = await client.call(
        "sunrise.start",
        {"duration": 60, "color_path": path, "target_kelvin": 5000, "start_brightness": 50},
    )
    assert ack["ok"], ack
    assert ack["state"]["color_temp_kelvin"] == kelvin
    await asyncio.sleep(0.2)
    x, y, _ = mixture(device.duties, RGB_CAL)
    assert (x, y) == pytest.approx(PLANCKIAN[kelvin], abs=1.5e-3)
    await client.sio.disconnect()


async def test_a_restart_mid_sunrise_resumes_in_colour(start, settings: Settings) -> None:
    first = await start(channels=RGB, calibration=RGB_CAL)
    command: Any = {
        "duration": 600.0,
        "target_brightness": 255.0,
        "start_brightness": 0.0,
        "curve": "linear",
        "color_path": "sunrise",
        "start_kelvin": 1000.0,
        "target_kelvin": 4000.0,
    }
    await first.server.controller.start_sunrise(command, started_at=time.time() - 300)
    await first.server.stop()
    saved = json.loads((settings.state_dir / "state.json").read_text())
    assert saved["ramp"]["color_path"] == "sunrise"
    second = await start(channels=RGB, calibration=RGB_CAL)
    state = second.server.controller.snapshot()
    assert state["sunrise"]["progress"] == pytest.approx(0.5, abs=0.01)
    assert state["sunrise"]["color_path"] == "sunrise"
    # Half way in mired between 1000 K and 4000 K: 1600 K.
    assert state["color_temp_kelvin"] == pytest.approx(1600, abs=10)
    assert second.duties["red"] > second.duties["green"] > second.duties["blue"]


async def test_an_alarm_with_a_colour_path_fires_in_colour(start) -> None:
    wake = (int(time.time()) // 60 + 3) * 60  # a whole minute (UTC), a few minutes ahead
    hhmm = time.strftime("%H:%M", time.gmtime(wake))
    # Its 60 s sunrise started 1.5 s ago: it fires at once.
    clock = ShiftedClock(wake - 58.5)
    device = await start(clock=clock, channels=RGB, calibration=RGB_CAL, timezone="UTC")
    client = await Client.open(device.url)
    ack = await client.call(
        "alarm.create",
        {"id": "dawn", "time": hhmm, "duration": 60, "color_path": "warm", "start_kelvin": 3000},
    )
    assert ack["ok"], ack
    assert ack["alarm"]["color_path"] == "warm"
    assert ack["alarm"]["start_kelvin"] == 3000
    await client.wait_for(lambda: "sunrise.started" in client.event_names())
    state = await client.wait_for_state(lambda s: s["sunrise"] is not None)
    assert state["sunrise"]["alarm_id"] == "dawn"
    assert state["sunrise"]["color_path"] == "warm"
    assert state["color_temp_kelvin"] == 3000
    x, y, _ = mixture(device.duties, RGB_CAL)
    assert (x, y) == pytest.approx(PLANCKIAN[3000], abs=1.5e-3)
    await client.sio.disconnect()


# -- configuration, backends, saved state ---------------------------------------------------


async def test_sysfs_channels_drive_their_pwm_channels(start, tmp_path: Path) -> None:
    root = tmp_path / "pwm"
    warm, cool = make_fake_sysfs(root, 0, 0), make_fake_sysfs(root, 0, 1)
    conf = load_settings(
        {"output": "sysfs", "channels": "warm=0,cool=pwmchip0/1"},
        config_file=None,
        environ={"DAYBREAK_SYSFS_ROOT": str(root)},
    )
    output = build_output(conf)
    assert isinstance(output, MultiOutput)
    assert all(isinstance(out, SysfsPwmOutput) for out in output.channels.values())
    device = await start(output=output, channels=conf.channels, sysfs_root=root)
    await set_light(device, brightness=255, color_temp_kelvin=6500)
    assert int((cool / "duty_cycle").read_text()) == int((cool / "period").read_text())
    assert int((warm / "duty_cycle").read_text()) == 0


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_channels_and_calibration_from_the_config_file(tmp_path: Path) -> None:
    conf = load_settings(
        {},
        config_file=write_toml(
            tmp_path,
            'channels = "red=17,green=27,blue=22,white=23"\n'
            "[calibration.white]\nkelvin = 3000\nlumens = 1.5\n"
            "[calibration.red]\nxy = [0.70, 0.29]\n",
        ),
        environ={},
    )
    assert conf.channels == (("red", "17"), ("green", "27"), ("blue", "22"), ("white", "23"))
    assert conf.calibration == {
        "white": {"kelvin": 3000.0, "lumens": 1.5},
        "red": {"xy": (0.7, 0.29)},
    }


@pytest.mark.parametrize(
    ("cli", "toml", "message"),
    [
        ({"channels": "warm=18"}, "", "are no known set"),
        ({"channels": "warm=18,cool=18"}, "", "two channels are on the same pin"),
        ({"channels": "warm=18,warm=19"}, "", "a channel is named twice"),
        ({"channels": "amber=18,cool=19"}, "", "unknown channel 'amber'"),
        ({"channels": "warm18,cool=19"}, "", "'warm18' is not NAME=PIN"),
        ({"channels": "warm=GPIO18,cool=GPIO19", "output": "sysfs"}, "", "is not a PWM channel"),
        ({"channels": "warm=0,cool=pwmchip0/0", "output": "sysfs"}, "", "same PWM channel"),
        ({}, "[calibration.warm]\nkelvin = 2700\n", "only for colour channels"),
        (
            {"channels": "warm=18,cool=19"},
            "[calibration.red]\nlumens = 1\n",
            "calibration for channel red",
        ),
        (
            {"channels": "warm=18,cool=19"},
            "[calibration.warm]\nxy = [0.4, 0.4]\n",
            "unknown key 'xy'",
        ),
        (
            {"channels": "warm=18,cool=19"},
            "[calibration.warm]\nkelvin = 500\n",
            "warm.kelvin must be",
        ),
        (
            {"channels": "warm=18,cool=19"},
            "[calibration.cool]\nkelvin = 2000\n",
            "below the cool one's",
        ),
        (
            {"channels": "red=1,green=2,blue=3"},
            "[calibration.red]\nxy = [0.7, 0.4]\n",
            "x + y must be below 1",
        ),
        (
            {"channels": "red=1,green=2,blue=3"},
            "[calibration.red]\nlumens = 0\n",
            "red.lumens must be",
        ),
        (
            {"channels": "red=1,green=2,blue=3"},
            (
                "[calibration.red]\nxy = [0.3, 0.3]\n[calibration.green]\nxy = [0.2, 0.2]\n"
                "[calibration.blue]\nxy = [0.1, 0.1]\n"
            ),
            "lie on one line",
        ),
    ],
)
def test_bad_channel_configs_are_refused_clearly(
    tmp_path: Path, cli: dict[str, Any], toml: str, message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(cli, config_file=write_toml(tmp_path, toml), environ={})
    assert message in str(refused.value)


async def test_a_single_channel_state_file_loads_on_a_colour_device(
    start, settings: Settings
) -> None:
    settings.state_dir.mkdir(parents=True)
    old_ramp = {
        "kind": "sunrise",
        "start": 0.0,
        "target": 255.0,
        "duration": 600.0,
        "curve": "linear",
        "started_at": time.time() - 60,
        "alarm_id": None,
    }
    assert Ramp.from_json(old_ramp).colour_start is None
    (settings.state_dir / "state.json").write_text(
        json.dumps({"version": 1, "on": True, "level": 100.0, "on_brightness": 100.0, "ramp": None})
    )
    device = await start(channels=CCT, calibration=CCT_CAL)
    state = device.server.controller.snapshot()
    assert (state["on"], state["level"], state["color_temp_kelvin"]) == (True, 100.0, 2700)
    assert device.duties["warm"] == pytest.approx(lightness_to_y(100), rel=1e-3)


async def test_a_sunset_warms_as_it_dims_and_the_colour_comes_back(start) -> None:
    """On a CCT strip a sunset from 5000 K moves toward the warm white as it dims (in
    mired, with the curve); off at its end, the light comes back on at 5000 K."""
    device = await start(channels=CCT, calibration=CCT_CAL)
    await set_light(device, brightness=200, color_temp_kelvin=5000)
    controller = device.server.controller
    client = await Client.open(device.url)
    try:
        ack = await client.call("sunset.start", {"duration": 600})
        assert ack["ok"], ack
    finally:
        await client.sio.disconnect()
    ramp = controller._ramp  # the schedule the ticks follow
    assert ramp is not None
    # Halfway: halfway in mired between 5000 K (200 mired) and 2700 K (370 mired).
    middle = ramp.colour_at(300)
    assert middle is not None
    assert 1e6 / middle.kelvin == pytest.approx((200 + 1e6 / 2700) / 2, rel=1e-3)
    assert ramp.colour_at(600).kelvin == pytest.approx(2700, abs=1)  # type: ignore[union-attr]
    await asyncio.sleep(0.5)
    shown = controller.snapshot()
    assert 4900 < shown["color_temp_kelvin"] < 5000  # warmer already, a little
    assert device.duties["warm"] > 0

    # A short one to its end (from 5000 K again: a command ends the first): off, then on
    # again at 5000 K.
    await set_light(device, brightness=200, color_temp_kelvin=5000)
    before = dict(device.duties)
    await controller.start_sunset({"duration": 0.5, "start_brightness": None, "curve": "linear"})
    for _ in range(40):
        await asyncio.sleep(0.05)
        if controller.snapshot()["sunset"] is None:
            break
    assert controller.snapshot()["on"] is False
    state = await set_light(device, on=True)
    assert state["color_temp_kelvin"] == 5000
    assert device.duties == pytest.approx(before, rel=1e-6)  # the same mix of the whites
