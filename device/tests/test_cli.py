"""The ``daybreak-device`` command line and settings: help, precedence, errors, token, id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from daybreak_device import __version__, cli
from daybreak_device.config import (
    OPTIONS,
    ConfigError,
    Settings,
    default_state_dir,
    load_settings,
    resolve_device_id,
    resolve_token,
)
from helpers import TOKEN

EXE = Path(sys.executable).parent / "daybreak-device"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch) -> None:
    """No DAYBREAK_* variables from the outside world."""
    for name in list(os.environ):
        if name.startswith("DAYBREAK_"):
            monkeypatch.delenv(name)


@pytest.fixture
def no_server(monkeypatch) -> None:
    """Fail instead of serving if a command line is unexpectedly valid."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server must not start")

    monkeypatch.setattr(cli, "DaybreakServer", refuse)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- help -------------------------------------------------------------------------------


def test_help_lists_every_option(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    text = " ".join(out.split())
    for option in OPTIONS:
        flag = "--" + option.name.replace("_", "-")
        if option.file_only:  # tables of the config file (calibration): no flag
            assert flag not in out, flag
            continue
        assert flag in out, flag
        if option.is_flag:
            assert f"--no-{option.name.replace('_', '-')}" in out
        else:
            assert f"{flag} {option.metavar}" in out
        assert " ".join(option.help.split()) in text, option.name
    for extra in ("--config FILE", "--version", "DAYBREAK_", "TOML"):
        assert extra in out


def test_console_script_help_and_version() -> None:
    result = subprocess.run(
        [str(EXE), "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: daybreak-device")
    assert "--sysfs-root DIR" in result.stdout
    result = subprocess.run(
        [str(EXE), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"daybreak-device {__version__}"


# -- precedence --------------------------------------------------------------------------


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings({}, environ={})
    expected = Settings()
    assert settings == expected
    assert (settings.host, settings.port, settings.output, settings.dimming) == (
        "0.0.0.0",  # noqa: S104
        8080,
        "gpiozero",
        "cie",
    )
    assert settings.token is None
    assert settings.on_exit == "keep"
    assert settings.pwm_frequency() == 1000.0
    settings.output = "sysfs"
    assert settings.pwm_frequency() == 2000.0
    settings.frequency = 500.0
    assert settings.pwm_frequency() == 500.0


def test_precedence_defaults_file_environment_command_line(tmp_path: Path) -> None:
    config = tmp_path / "daybreak.toml"
    config.write_text(
        'port = 1111\nname = "From file"\ntick_rate = 20\npwm-chip = 1\nmock = true\n'
        'dimming = "gamma"\ngamma = 1.8\nstate_dir = "/srv/daybreak"\n'
    )
    environ = {
        "DAYBREAK_PORT": "2222",
        "DAYBREAK_TICK_RATE": "30",
        "DAYBREAK_MOCK": "false",
        "DAYBREAK_GAMMA": "2.6",
        "HOME": "/nowhere",
    }
    cli_values = {"port": "3333", "gamma": None, "pin": "GPIO13"}
    settings = load_settings(cli_values, config_file=config, environ=environ)
    assert settings.port == 3333  # command line over environment over file
    assert settings.gamma == 2.6  # environment over file (None on the command line = unset)
    assert settings.tick_rate == 30.0
    assert settings.mock is False  # environment "false" over file true
    assert settings.name == "From file"  # file over default
    assert settings.pwm_chip == 1  # dashes in file keys work
    assert settings.dimming == "gamma"
    assert settings.state_dir == Path("/srv/daybreak")
    assert settings.pin == "GPIO13"
    assert settings.host == "0.0.0.0"  # noqa: S104 - the default
    assert settings.heartbeat_interval == 10.0


def test_toml_numbers_of_either_type(tmp_path: Path) -> None:
    config = tmp_path / "daybreak.toml"
    config.write_text("port = 8081.0\ngamma = 2\ntick_rate = 100\n")
    settings = load_settings({}, config_file=config, environ={})
    assert settings.port == 8081
    assert isinstance(settings.port, int)
    assert settings.gamma == 2.0
    assert settings.tick_rate == 100.0


def test_config_file_from_environment(tmp_path: Path) -> None:
    from_env = tmp_path / "env.toml"
    from_env.write_text('name = "env file"\nport = 1234\n')
    explicit = tmp_path / "explicit.toml"
    explicit.write_text('name = "explicit file"\n')
    environ = {"DAYBREAK_CONFIG": str(from_env)}
    assert load_settings({}, environ=environ).name == "env file"
    settings = load_settings({}, config_file=explicit, environ=environ)
    assert settings.name == "explicit file"
    assert settings.port == 8080


def test_command_line_through_the_parser(tmp_path: Path) -> None:
    args = vars(
        cli.build_parser().parse_args(
            [
                "--mock",
                "--active-low",
                "--output", "sysfs",
                "--sysfs-root", str(tmp_path),
                "--frequency", "25000",
                "--min-duty", "0.02",
                "--on-exit", "off",
                "--state-dir", "~/daybreak-state",
            ]
        )
    )  # fmt: skip
    assert args.pop("config") is None
    settings = load_settings(args, environ={"DAYBREAK_MOCK": "0", "DAYBREAK_PORT": "9000"})
    assert settings.mock is True
    assert settings.active_low is True
    assert settings.output == "sysfs"
    assert settings.sysfs_root == tmp_path
    assert settings.pwm_frequency() == 25000.0
    assert settings.min_duty == 0.02
    assert settings.on_exit == "off"
    assert settings.state_dir == Path("~/daybreak-state").expanduser()
    assert settings.port == 9000
    no_mock = vars(cli.build_parser().parse_args(["--no-mock"]))
    del no_mock["config"]
    assert load_settings(no_mock, environ={"DAYBREAK_MOCK": "yes"}).mock is False


def test_default_state_dir(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/daybreak:/var/lib/other")
    assert default_state_dir() == Path("/var/lib/daybreak")
    monkeypatch.delenv("STATE_DIRECTORY")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_state_dir() == tmp_path / "daybreak"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_dir() == tmp_path / "home" / ".local" / "state" / "daybreak"


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "environ", "toml", "expected"),
    [
        (["--port", "70000"], {}, None, "command line: port: must be between 1 and 65535"),
        (["--port", "eighty"], {}, None, "command line: port: invalid literal"),
        (["--dimming", "log"], {}, None, "dimming: must be one of cie, gamma, linear"),
        (["--tick-rate", "0"], {}, None, "tick_rate: must be between 1 and 1000"),
        (["--on-exit", "explode"], {}, None, "on_exit: must be one of keep, off"),
        (["--host", ""], {}, None, "host: expected a non-empty string"),
        ([], {"DAYBREAK_MIN_DUTY": "2"}, None, "environment: min_duty: must be between 0"),
        ([], {"DAYBREAK_MOCK": "maybe"}, None, "environment: mock: expected true or false"),
        ([], {"DAYBREAK_GAMMA": "nan"}, None, "environment: gamma: must be between 0.1 and 5"),
        ([], {}, "colour = 'red'\n", "unknown setting 'colour'"),
        ([], {}, "port = true\n", "port: expected a number"),
        ([], {}, "port = 8080.5\n", "port: expected a whole number"),
        ([], {}, "pwm_chip = 0.9\n", "pwm_chip: expected a whole number"),
        ([], {}, "progress_interval = 0.01\n", "progress_interval: must be between 0.05"),
        ([], {}, "port = [\n", "config file"),
    ],
)
def test_invalid_settings_exit_2_naming_the_setting(
    argv, environ, toml, expected, *, tmp_path: Path, monkeypatch, capsys, no_server
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    extra = ["--state-dir", str(tmp_path / "state"), "--token", TOKEN]
    if toml is not None:
        config = tmp_path / "daybreak.toml"
        config.write_text(toml)
        extra += ["--config", str(config)]
    assert cli.main([*argv, *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("daybreak-device: ")
    assert expected in err
    assert err.count("\n") == 1  # one line, no traceback


def test_load_settings_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="command line: port: must be between 1 and 65535"):
        load_settings({"port": "0"}, environ={})
    with pytest.raises(ConfigError, match="environment: output: must be one of gpiozero, sysfs"):
        load_settings({}, environ={"DAYBREAK_OUTPUT": "pigpio"})
    config = tmp_path / "bad.toml"
    config.write_text("name = ''\n")
    with pytest.raises(ConfigError, match=f"{config}: name: expected a non-empty string"):
        load_settings({}, config_file=config, environ={})


def test_missing_config_file_exits_2(tmp_path: Path, capsys, no_server) -> None:
    missing = tmp_path / "nope.toml"
    assert cli.main(["--config", str(missing), "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"config file {missing}" in err
    assert "No such file" in err


def test_unknown_option_exits_2(capsys, no_server) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--frobnicate"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --frobnicate" in capsys.readouterr().err


def test_missing_pwm_chip_exits_1_with_the_reason(tmp_path: Path, capsys) -> None:
    code = cli.main(
        [
            "--output", "sysfs",
            "--sysfs-root", str(tmp_path / "no-pwm"),
            "--host", "127.0.0.1",
            "--port", str(free_port()),
            "--token", TOKEN,
            "--state-dir", str(tmp_path / "state"),
        ]
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "daybreak-device: " in err
    assert "pwmchip0 does not exist" in err


def test_port_in_use_exits_1(tmp_path: Path, capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = cli.main(
            [
                "--mock",
                "--host", "127.0.0.1",
                "--port", str(port),
                "--token", TOKEN,
                "--state-dir", str(tmp_path / "state"),
            ]
        )  # fmt: skip
    assert code == 1
    assert "daybreak-device: cannot serve:" in capsys.readouterr().err


# -- token and device id ---------------------------------------------------------------------


def test_resolve_token(tmp_path: Path) -> None:
    given = Settings(token="given-token", state_dir=tmp_path / "a")  # noqa: S106
    assert resolve_token(given) == ("given-token", False)
    assert not (tmp_path / "a").exists()

    settings = Settings(state_dir=tmp_path / "b")
    token, generated = resolve_token(settings)
    assert generated is True
    assert len(token) >= 32
    path = tmp_path / "b" / "token"
    assert path.read_text() == token + "\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert resolve_token(settings) == (token, False)

    path.write_text("  \n")  # an empty token file is not a token
    again, generated = resolve_token(settings)
    assert generated is True
    assert again != token
    assert again
    assert path.stat().st_mode & 0o777 == 0o600


def test_resolve_device_id(tmp_path: Path) -> None:
    device_id = resolve_device_id(tmp_path)
    assert len(device_id) == 12
    assert all(c in "0123456789abcdef" for c in device_id)
    assert resolve_device_id(tmp_path) == device_id
    assert (tmp_path / "device_id").read_text() == device_id + "\n"
    (tmp_path / "device_id").write_text("not-an-id\n")
    replaced = resolve_device_id(tmp_path)
    assert replaced != "not-an-id"
    assert len(replaced) == 12
    assert resolve_device_id(tmp_path) == replaced


class Running:
    """``daybreak-device --mock`` as a child process; stdout and stderr go to files."""

    def __init__(self, tmp_path: Path, run: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout = tmp_path / f"stdout-{run}"
        self.stderr = tmp_path / f"stderr-{run}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAYBREAK_")}
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.proc = subprocess.Popen(
                [
                    str(EXE),
                    "--mock",
                    "--host", "127.0.0.1",
                    "--port", str(self.port),
                    "--state-dir", str(tmp_path / "state"),
                    "--log-level", "warning",
                    "--no-zeroconf",
                ],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env,
            )  # fmt: skip
        deadline = time.monotonic() + 15
        while not self._ready():
            if time.monotonic() > deadline:
                pytest.fail(f"device did not start:\n{self.stderr.read_text()}")
            time.sleep(0.02)

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            pytest.fail(f"device exited with {self.proc.returncode}:\n{self.stderr.read_text()}")
        try:
            return httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def get(self, path: str, token: str | None) -> httpx.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=5)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(5)


@pytest.fixture
def processes() -> Iterator[list[Running]]:
    running: list[Running] = []
    yield running
    for process in running:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait(5)


def test_token_generated_stored_and_printed_once(tmp_path: Path, processes) -> None:
    first = Running(tmp_path, 1)
    processes.append(first)
    token_file = tmp_path / "state" / "token"
    token = token_file.read_text().strip()
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert first.get("/api/state", token).status_code == 200
    assert first.get("/api/state", None).status_code == 401
    assert first.get("/api/state", token + "x").status_code == 401
    device_id = first.get("/api/info", token).json()["device_id"]
    assert first.stop() == 0
    out = first.stdout.read_text()
    assert out.count("Generated access token") == 1
    assert out.splitlines().count(token) == 1
    assert str(token_file) in out

    second = Running(tmp_path, 2)
    processes.append(second)
    assert second.get("/api/state", token).status_code == 200
    assert second.get("/api/info", token).json()["device_id"] == device_id
    assert second.stop() == 0
    out = second.stdout.read_text()
    assert "Generated" not in out
    assert token not in out
    assert token not in second.stderr.read_text()
    assert token_file.read_text().strip() == token
    assert (tmp_path / "state" / "device_id").read_text().strip() == device_id


@pytest.mark.parametrize(
    ("source", "values"),
    [
        ("cli", {"token": "short-token"}),
        ("env", {"DAYBREAK_TOKEN": "0123456789abcde"}),
    ],
)
def test_a_token_under_16_characters_is_refused(source: str, values: dict[str, str]) -> None:
    """The message names the setting, the rule and how to get a good token."""
    cli_values, environ = (values, {}) if source == "cli" else ({}, values)
    with pytest.raises(ConfigError, match="token: must be at least 16 characters") as caught:
        load_settings(cli_values, environ=environ)
    assert "secrets.token_urlsafe" in str(caught.value)


def test_a_short_stored_token_is_refused(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("abc\n")
    with pytest.raises(ConfigError, match="shorter than 16 characters"):
        resolve_token(Settings(state_dir=tmp_path))


def test_the_help_example_has_no_short_token() -> None:
    assert "--token T\n" not in cli.EPILOG
    assert "--token T " not in cli.EPILOG


def test_allowed_hosts_from_flags_lists_and_the_environment() -> None:
    """``--allowed-host`` repeats and takes lists; TOML and the environment take lists."""
    args = vars(
        cli.build_parser().parse_args(
            ["--allowed-host", "a.example,b.example", "--allowed-host", "c"]
        )
    )
    assert load_settings(args, environ={}).allowed_host == ("a.example", "b.example", "c")
    env = {"DAYBREAK_ALLOWED_HOST": "proxy.example, [::1]"}
    assert load_settings({}, environ=env).allowed_host == ("proxy.example", "[::1]")
    with pytest.raises(ConfigError, match="allowed_host: 'http://x' is not a host name"):
        load_settings({"allowed_host": ["http://x"]}, environ={})
