# shellcheck shell=bash
# The real Home Assistant environment for scripts/develop and the smoke test
# (scripts/test hass). Sourced by scripts/setup after python314.sh and ha_env.sh; uses their
# log, py314_python, ha_lock and ha_make_venv. Defines:
#   setup_hass     .venv/hass    the newest homeassistant release (requirements_hass.txt),
#                                Python >= 3.14.2, run as the `hass` command
# The device it talks to runs from .venv/device (setup_device), as a Pi runs it.

# hass_check: the venv has a runnable hass of the pinned release and the integration's
# requirements (fast; catches a broken interpreter).
hass_check() {
    local venv="$ROOT/.venv/hass" what
    what=$("$venv/bin/python" -c '
import platform
from homeassistant.const import __version__
import socketio  # noqa: F401  (the integration requirement)
print(f"Python {platform.python_version()}, Home Assistant {__version__}")') \
        && [ -x "$venv/bin/hass" ] \
        || { log "hass: the environment does not import (rm -rf .venv/hass and run again)"; return 1; }
    log "hass: ready ($what)"
}

setup_hass() {
    ha_lock hass
    py314_python        # sets PY314 (may build the cached root; see scripts/lib/python314.sh)
    ha_make_venv hass "$PY314" requirements_hass.txt
    hass_check
    exec {HA_LOCK_FD}>&-
}
