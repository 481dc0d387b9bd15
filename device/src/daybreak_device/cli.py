"""``daybreak-device``: run the Daybreak device server."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from . import __version__
from .config import OPTIONS, ConfigError, Settings, load_settings, resolve_token
from .output import OutputError
from .server import DaybreakServer

EPILOG = """\
Every setting can also come from a TOML config file (--config, or $DAYBREAK_CONFIG;
keys as the long option names with underscores, e.g. pwm_chip = 0) and from
environment variables DAYBREAK_<NAME> (e.g. DAYBREAK_PORT=8080). The command line
wins over the environment, which wins over the config file.

Try it on any PC:  daybreak-device --mock --host 127.0.0.1 --port 8080
(the first start generates a long random token, prints it and keeps it in the state
dir; a token of your own, --token, must have at least 16 characters)
"""


class _PrintData(argparse.Action):
    """``--print-config``/``--print-unit``: print a file shipped in the package and exit."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        self.file_name: str = kwargs.pop("file_name")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        data = resources.files(__package__) / "data" / self.file_name
        sys.stdout.write(data.read_text(encoding="utf-8"))
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, generated from the settings table."""
    parser = argparse.ArgumentParser(
        prog="daybreak-device",
        description="Daybreak wake-up light device server: drives a PWM LED and serves "
        "Socket.IO and a REST API for Home Assistant.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--print-config",
        action=_PrintData,
        file_name="config.example.toml",
        help="print an example config file (for /etc/daybreak/config.toml) and exit",
    )
    parser.add_argument(
        "--print-unit",
        action=_PrintData,
        file_name="daybreak-device.service",
        help="print the systemd unit (for /etc/systemd/system/daybreak-device.service) and exit",
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="TOML config file (default $DAYBREAK_CONFIG)"
    )
    for option in OPTIONS:
        if option.file_only:
            continue
        flag = "--" + option.name.replace("_", "-")
        if option.is_flag:
            parser.add_argument(
                flag, dest=option.name, action=argparse.BooleanOptionalAction, help=option.help
            )
        elif option.repeatable:
            parser.add_argument(
                flag, dest=option.name, action="append", metavar=option.metavar, help=option.help
            )
        else:
            parser.add_argument(flag, dest=option.name, metavar=option.metavar, help=option.help)
    parser.set_defaults(**{option.name: None for option in OPTIONS if not option.file_only})
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse settings, print a generated token once, and serve until stopped."""
    args = vars(build_parser().parse_args(argv))
    config_file = args.pop("config")
    try:
        settings: Settings = load_settings(args, config_file=config_file)
        token, generated = resolve_token(settings)
    except (ConfigError, OSError) as err:
        print(f"daybreak-device: {err}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if generated:
        print(
            f"Generated access token (stored in {settings.state_dir / 'token'}):\n{token}",
            flush=True,
        )
    try:
        asyncio.run(DaybreakServer(settings, token).run())
    except (OutputError, ValueError) as err:
        print(f"daybreak-device: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"daybreak-device: cannot serve: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
