# shellcheck shell=bash
# The Home Assistant test environments. Sourced by scripts/setup after python314.sh; uses
# its log, find_python and ROOT. Defines:
#   setup_ha       .venv/ha      newest testable HA (requirements_test_ha.txt), Python >= 3.14.2
#   setup_ha_min   .venv/ha-min  oldest supported HA (requirements_test_ha_min.txt), Python 3.13
# Each venv also gets the device package from ./device (--no-deps, rebuilt when its sources
# change), because HA tests start the real device server in hass's event loop.
# Run a venv's python from the repo root with scripts/lib/ha-python NAME ARGS...

# ha_pip VENV ARGS...: VENV's pip, without the one warning per package that this machine's
# pip settings (file:// extra indexes for folders that lack most packages) print.
ha_pip() {
    local venv=$1; shift
    "$venv/bin/python" -m pip "$@" 2> >(grep -v 'is neither a file nor a directory' >&2)
}

# ha_make_venv NAME PYTHON REQUIREMENTS [PIP_OPTION...]: (re)create .venv/NAME when its
# inputs changed: the same stamp rule as make_venv (python version + requirements), plus
# the interpreter's path and the pip options; also rebuilt when the venv's python no longer
# runs (e.g. the cached root it links to was removed).
ha_make_venv() {
    local name=$1 python=$2 req=$3; shift 3
    local venv="$ROOT/.venv/$name" stamp t0=$SECONDS wheel
    stamp=$( { echo "$python"; "$python" --version; cat "$req"; echo "$*"; } | sha256sum | cut -c1-16)
    if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$stamp" ] \
            && "$venv/bin/python" -c '' 2>/dev/null; then
        log "$name: up to date ($("$venv/bin/python" --version))"
        return 0
    fi
    log "$name: creating with $("$python" --version) from $req ..."
    rm -rf "$venv"
    # pip goes in from the interpreter's own wheel folder when it has one (Debian: ensurepip
    # there reads /usr/share/python-wheels by absolute path, i.e. the host's for the
    # patched python), else with ensurepip.
    "$python" -m venv --without-pip "$venv"
    wheel=$("$venv/bin/python" -c 'import glob, sys; w = sorted(glob.glob(sys.base_prefix + "/share/python-wheels/pip-*.whl")); print(w[-1] if w else "")')
    if [ -n "$wheel" ]; then
        "$venv/bin/python" "$wheel/pip" install -q --no-index "$wheel"
    else
        "$venv/bin/python" -m ensurepip --upgrade --default-pip >/dev/null
    fi
    ha_pip "$venv" install -q --upgrade pip
    # Every package is pinned in $req (a pip freeze): install exactly that set without
    # resolving, then let pip check that it is consistent. (Pinning is what made ha-min
    # fast: ~40 s instead of 2-4 min of backtracking; --no-deps saves a few seconds more and
    # rules out any drift.)
    ha_pip "$venv" install -q --no-deps "$@" -r "$req"
    ha_pip "$venv" check >&2
    echo "$stamp" > "$venv/.stamp"
    rm -f "$venv/.src-stamp"
    log "$name: installed in $((SECONDS - t0)) s ($(du -sh "$venv" | cut -f1))"
}

# ha_install_device NAME [PIP_OPTION...]: (re)install ./device into .venv/NAME, no deps,
# whenever its sources (or the protocol it builds in) change; as setup_device does.
ha_install_device() {
    local name=$1; shift
    local venv="$ROOT/.venv/$name" src
    src=$( { cat device/pyproject.toml device/hatch_build.py custom_components/daybreak/protocol.py
             find device/src -name '*.py' -print0 | sort -z | xargs -0 cat; } | sha256sum | cut -c1-16)
    if [ "$(cat "$venv/.src-stamp" 2>/dev/null)" != "$src" ]; then
        ha_pip "$venv" install -q --no-deps --no-build-isolation --force-reinstall "$@" ./device
        echo "$src" > "$venv/.src-stamp"
    fi
}

# ha_check NAME: the venv imports what HA tests need (fast; catches a broken interpreter).
ha_check() {
    local venv="$ROOT/.venv/$1"
    local what
    what=$("$venv/bin/python" -c '
import platform
from homeassistant.const import __version__  # first: HA 2026.10 swaps voluptuous for probatio
import daybreak_device.server, pytest_homeassistant_custom_component, socketio  # noqa: F401
print(f"Python {platform.python_version()}, Home Assistant {__version__}")') \
        || { log "$1: the environment does not import (rm -rf .venv/$1 and run again)"; return 1; }
    log "$1: ready ($what)"
}

# One setup of a given venv at a time (colleagues' runs may overlap in one checkout).
ha_lock() {
    mkdir -p "$ROOT/.venv"
    exec {HA_LOCK_FD}>"$ROOT/.venv/.$1.lock"
    flock "$HA_LOCK_FD"
}

setup_ha() {
    ha_lock ha
    py314_python        # sets PY314 (may build the cached root; see scripts/lib/python314.sh)
    ha_make_venv ha "$PY314" requirements_test_ha.txt
    ha_install_device ha
    ha_check ha
    exec {HA_LOCK_FD}>&-
}

setup_ha_min() {
    local py
    ha_lock ha-min
    # HA 2026.2 declares Python >= 3.13.2; pyenv here has 3.13.0, which runs it (and its
    # test plugin) fine: hence --ignore-requires-python.
    py=$(find_python 3.13) || { log "ha-min: Python 3.13 not found (pyenv install 3.13 or apt python3.13)"; exit 1; }
    ha_make_venv ha-min "$py" requirements_test_ha_min.txt --ignore-requires-python
    ha_install_device ha-min --ignore-requires-python
    ha_check ha-min
    exec {HA_LOCK_FD}>&-
}
