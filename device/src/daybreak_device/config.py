"""Settings: defaults, then a TOML config file, then ``DAYBREAK_*`` variables, then flags.

Every setting is declared once in :data:`OPTIONS` with its type, default and help
text; the command line, the environment and the config file are all read through
that table, so they cannot disagree.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from .alarms import load_timezone
from .channels import channel_specs, parse_calibration, parse_channels, sysfs_target
from .colour import Mixer
from .dimming import DIMMING_CURVES, DimmingCurve
from .store import atomic_write_text
from .throttle import MIN_TOKEN_LENGTH

ENV_PREFIX = "DAYBREAK_"
TOKEN_FILE = "token"  # noqa: S105 - a file name, not a secret
OutputKind = Literal["gpiozero", "sysfs"]
OnExit = Literal["keep", "off"]


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names it."""


def default_state_dir() -> Path:
    """``$STATE_DIRECTORY`` (systemd), else ``$XDG_STATE_HOME/daybreak`` or its default."""
    if systemd := os.environ.get("STATE_DIRECTORY"):
        return Path(systemd.split(":")[0])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "daybreak"


@dataclass(slots=True)
class Settings:
    """All device server settings (see ``daybreak-device --help``)."""

    host: str = "0.0.0.0"  # noqa: S104 - a device serves its LAN
    port: int = 8080
    token: str | None = None
    state_dir: Path = field(default_factory=default_state_dir)
    name: str = "Daybreak"
    mock: bool = False
    output: OutputKind = "gpiozero"
    pin: str = "GPIO18"
    frequency: float | None = None
    active_low: bool = False
    sysfs_root: Path = Path("/sys/class/pwm")
    pwm_chip: int = 0
    pwm_channel: int = 0
    #: Colour channels as (name, pin or PWM channel), in driving order; () is one channel.
    channels: tuple[tuple[str, str], ...] = ()
    calibration: dict[str, dict[str, Any]] = field(default_factory=dict)
    dimming: DimmingCurve = "cie"
    gamma: float = 2.2
    min_duty: float = 0.0
    tick_rate: float = 50.0
    progress_interval: float = 1.0
    heartbeat_interval: float = 10.0
    ping_interval: float = 5.0
    ping_timeout: float = 5.0
    on_exit: OnExit = "keep"
    log_level: str = "info"
    timezone: str | None = None
    zeroconf: bool = True
    allowed_host: tuple[str, ...] = ()
    max_connections: int = 256
    button_pin: str | None = None

    def pwm_frequency(self) -> float:
        """The PWM frequency: as set, else 1 kHz for gpiozero and 2 kHz for sysfs."""
        if self.frequency is not None:
            return self.frequency
        return 2000.0 if self.output == "sysfs" else 1000.0


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: how to parse it and what ``--help`` says."""

    name: str
    parse: Callable[[Any], Any]
    help: str
    metavar: str | None = None
    is_flag: bool = False
    #: The flag may be given more than once (and a value may be a comma-separated list).
    repeatable: bool = False
    #: Only in the config file (tables): no flag, no environment variable.
    file_only: bool = False


def _choice(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return str(value)

    return parse


def _ranged(kind: type[int] | type[float], low: float, high: float) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("expected a number")
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError("expected a whole number")  # int() would silently truncate
        number = kind(value)
        if not low <= number <= high:
            raise ValueError(f"must be between {low:g} and {high:g}")
        return number

    return parse


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty string")
    return value


def _token(value: Any) -> str:
    token = _text(value)
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(
            f"must be at least {MIN_TOKEN_LENGTH} characters (this one has {len(token)}); "
            "leave it out to have a long random one generated, or make one with: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(24))'"
        )
    return token


#: A host name or IP literal as it may appear in a ``Host`` header (without the port).
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\]")


def _host_names(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else [value]
    names: list[str] = []
    for item in items:
        for name in _text(item).split(","):
            name = name.strip()  # noqa: PLW2901
            if not _HOST_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a host name (give names without port or scheme)")
            names.append(name)
    return tuple(names)


def _timezone(value: Any) -> str:
    name = _text(value)
    load_timezone(name)  # ValueError for an unknown zone
    return name


def _path(value: Any) -> Path:
    return Path(_text(value)).expanduser()


OPTIONS: tuple[Option, ...] = (
    Option("host", _text, "address to listen on (default 0.0.0.0: all interfaces)", "ADDR"),
    Option("port", _ranged(int, 1, 65535), "TCP port for Socket.IO and REST (default 8080)", "N"),
    Option(
        "token",
        _token,
        f"access token clients must present, at least {MIN_TOKEN_LENGTH} characters; "
        "default: the one stored in the state dir, generated and printed once on first start",
        "TOKEN",
    ),
    Option(
        "state_dir",
        _path,
        "where state.json, the token and the device id live (default "
        "$STATE_DIRECTORY, else $XDG_STATE_HOME/daybreak, else ~/.local/state/daybreak)",
        "DIR",
    ),
    Option("name", _text, "device name shown to clients (default Daybreak)", "NAME"),
    Option("mock", _flag, "use gpiozero's mock pins instead of real GPIO (any PC)", is_flag=True),
    Option(
        "output",
        _choice("gpiozero", "sysfs"),
        "LED backend: gpiozero software PWM (default) or sysfs kernel hardware PWM",
        "KIND",
    ),
    Option("pin", _text, "gpiozero pin, e.g. GPIO18 or BOARD12 (default GPIO18)", "PIN"),
    Option(
        "frequency",
        _ranged(float, 1, 1_000_000),
        "PWM frequency in Hz (default 1000 for gpiozero, 2000 for sysfs)",
        "HZ",
    ),
    Option("active_low", _flag, "the LED driver is on when the pin is low", is_flag=True),
    Option("sysfs_root", _path, "sysfs PWM class directory (default /sys/class/pwm)", "DIR"),
    Option("pwm_chip", _ranged(int, 0, 64), "sysfs pwmchip number (default 0)", "N"),
    Option("pwm_channel", _ranged(int, 0, 64), "sysfs PWM channel (default 0)", "N"),
    Option(
        "channels",
        parse_channels,
        "colour channels instead of one --pin: warm=18,cool=19 (CCT), red=17,green=27,"
        "blue=22 (RGB) or with white=23 (RGBW); for --output sysfs PWM channels, "
        "warm=0,cool=1 (on --pwm-chip) or warm=pwmchip0/0,cool=pwmchip0/1",
        "NAME=PIN,...",
    ),
    Option(
        "calibration",
        parse_calibration,
        "[calibration.NAME] tables with kelvin (white channels), xy (colour channels) "
        "and lumens (relative output at full duty)",
        file_only=True,
    ),
    Option(
        "dimming",
        _choice(*DIMMING_CURVES),
        "brightness to duty curve: cie (CIE 1931 L*, default), gamma or linear",
        "CURVE",
    ),
    Option("gamma", _ranged(float, 0.1, 5), "exponent for --dimming gamma (default 2.2)", "G"),
    Option(
        "min_duty",
        _ranged(float, 0, 0.99),
        "duty of the lowest non-zero level, for drivers dark below it (default 0)",
        "D",
    ),
    Option("tick_rate", _ranged(float, 1, 1000), "ramp update rate in Hz (default 50)", "HZ"),
    Option(
        "progress_interval",
        _ranged(float, 0.05, 60),
        "seconds between state pushes while a ramp runs (default 1)",
        "S",
    ),
    Option(
        "heartbeat_interval",
        _ranged(float, 0.1, 3600),
        "seconds between heartbeat events (default 10)",
        "S",
    ),
    Option("ping_interval", _ranged(float, 1, 60), "Socket.IO ping interval in s (default 5)", "S"),
    Option("ping_timeout", _ranged(float, 1, 60), "Socket.IO ping timeout in s (default 5)", "S"),
    Option(
        "on_exit",
        _choice("keep", "off"),
        "what the LED does when the server stops: keep its level (default) or off",
        "WHAT",
    ),
    Option(
        "log_level",
        _choice("debug", "info", "warning", "error"),
        "log level (default info)",
        "LEVEL",
    ),
    Option(
        "timezone",
        _timezone,
        "IANA time zone of the alarms' wake times, e.g. Europe/Berlin (default: the "
        "system's, from $TZ or /etc/localtime)",
        "ZONE",
    ),
    Option(
        "zeroconf",
        _flag,
        "advertise the device on the LAN with zeroconf (mDNS, _daybreak._tcp; default on)",
        is_flag=True,
    ),
    Option(
        "allowed_host",
        _host_names,
        "another name the device answers to in the Host header, e.g. a reverse proxy's "
        "(repeatable, or several separated by commas; IP addresses, localhost, the mDNS "
        "names and the machine's host name are always allowed)",
        "NAME",
        repeatable=True,
    ),
    Option(
        "max_connections",
        _ranged(int, 8, 65536),
        "most TCP connections open at once; newer ones are refused (default 256, and "
        "always 64 below the limit on open files)",
        "N",
    ),
    Option(
        "button_pin",
        _text,
        "gpiozero pin of the bedside push button, wired to ground (internal pull-up), "
        "e.g. GPIO17; default: no button",
        "PIN",
    ),
)
_BY_NAME = {option.name: option for option in OPTIONS}
assert set(_BY_NAME) == {f.name for f in fields(Settings)}  # noqa: S101 - import-time check


def _apply(settings: Settings, values: Mapping[str, Any], source: str) -> None:
    for key, raw in values.items():
        option = _BY_NAME.get(key)
        if option is None:
            raise ConfigError(f"{source}: unknown setting {key!r}")
        try:
            setattr(settings, key, option.parse(raw))
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{source}: {key}: {err}") from None


def load_settings(
    cli: Mapping[str, Any],
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge defaults, ``config_file`` (TOML), ``DAYBREAK_*`` variables and ``cli``."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    if config_file is None and (env_file := environ.get(f"{ENV_PREFIX}CONFIG")):
        config_file = Path(env_file)
    if config_file is not None:
        try:
            with config_file.open("rb") as handle:
                data = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise ConfigError(f"config file {config_file}: {err}") from None
        _apply(settings, {k.replace("-", "_"): v for k, v in data.items()}, str(config_file))
    env_values = {
        name: environ[f"{ENV_PREFIX}{name.upper()}"]
        for name, option in _BY_NAME.items()
        if f"{ENV_PREFIX}{name.upper()}" in environ and not option.file_only
    }
    _apply(settings, env_values, "environment")
    _apply(settings, {k: v for k, v in cli.items() if v is not None}, "command line")
    _check_channels(settings)
    return settings


def _check_channels(settings: Settings) -> None:
    """Check the channels against each other, the calibration and the backend."""
    if settings.calibration and not settings.channels:
        raise ConfigError("calibration: only for colour channels (give channels too)")
    try:
        specs = channel_specs(settings.channels, settings.calibration)
        if specs:
            Mixer([spec.mixer_channel() for spec in specs])  # the calibration mixes
        if settings.output == "sysfs":
            targets = [sysfs_target(t, settings.pwm_chip) for _, t in settings.channels]
            if len(set(targets)) != len(targets):
                raise ValueError("two channels are on the same PWM channel")
    except ValueError as err:
        raise ConfigError(f"channels: {err}") from None


def resolve_token(settings: Settings) -> tuple[str, bool]:
    """Return the token and whether it was generated just now (stored 0600 in the state dir)."""
    if settings.token:
        return settings.token, False
    path = settings.state_dir / TOKEN_FILE
    try:
        stored = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        stored = ""
    if stored:
        if len(stored) < MIN_TOKEN_LENGTH:
            raise ConfigError(
                f"the token in {path} is shorter than {MIN_TOKEN_LENGTH} characters: "
                "delete the file to have a long random one generated"
            )
        return stored, False
    token = secrets.token_urlsafe(24)
    atomic_write_text(path, token + "\n", mode=0o600)
    return token, True


def resolve_device_id(state_dir: Path) -> str:
    """Return this device's stable id, creating it (random, 12 hex digits) on first start."""
    path = state_dir / "device_id"
    try:
        stored = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        stored = ""
    if len(stored) == 12 and all(c in "0123456789abcdef" for c in stored):
        return stored
    device_id = secrets.token_hex(6)
    atomic_write_text(path, device_id + "\n")
    return device_id
