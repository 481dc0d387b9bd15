# shellcheck shell=bash disable=SC2034
# Python >= 3.14.2 for the newest Home Assistant, on a Debian 12 machine that has none.
# Sourced by scripts/setup (bash, set -euo pipefail); defines py314_* functions only.
#
#   py314_python    set PY314 to a Python >= 3.14.2, making one first if needed
#
# Where the Python comes from, in order:
#   1. $DAYBREAK_PY314 if set (any Python >= 3.14.2);
#   2. a python3.14 (>= 3.14.2) on PATH or in pyenv;
#   3. a Debian root (sid; forky if sid fails) made once with debootstrap in a cache OUTSIDE
#      the repo, ${DAYBREAK_CACHE:-${XDG_CACHE_HOME:-~/.cache}/daybreak}/py314-root, and
#      reused while healthy. Needs root (debootstrap) and Debian's archive; apt-get installs
#      debootstrap and patchelf when they are missing.
#
# Why patchelf and not a chroot. Debian's python3.14 needs glibc >= 2.38 (bookworm has 2.36).
# Two ways were tried on these machines:
#   - chroot: every test run must mount proc, a tmpfs on dev/shm and bind-mount the project at
#     the same path, as root, and unmount again (trap) -- also when two runs overlap; the venv's
#     bin/python is a symlink valid only inside the root, so the venv has to live in the root
#     and every tool that calls sys.executable must run in there.
#   - patchelf (chosen): a copy of the root's python3.14 named python3.14-host gets the root's
#     dynamic loader as its ELF interpreter and the root's library folder as its DT_RPATH, so
#     it runs directly on the host with the root's glibc, libssl, libsqlite3, ... and the
#     root's standard library (sys.prefix is derived from the binary's location). A normal
#     venv (.venv/ha in the repo) is made from it; at test time nothing is mounted, no root is
#     needed, subprocesses of sys.executable work, concurrent runs are independent, and
#     scripts/test calls .venv/ha/bin/python like any other venv. Host programs run from the
#     tests (sh, git) are unaffected: nothing is exported (no LD_LIBRARY_PATH).
#   Things read by absolute path still come from the host: /etc (resolv.conf; the CA bundle,
#   which pip and ssl use -- what an intercepting proxy needs), zone info, locales, gconv;
#   libraries not in the root fall back to the host's ld.so.cache. The loader path is baked
#   into python3.14-host, so the root must stay where it was made (the health check notices
#   a moved root and re-patches it; a broken one is made again). x86_64 only.
#
# Safety: debootstrap mounts proc/sys in the root while it runs. Nothing is ever deleted
# while something is mounted below it (py314_safe_rm unmounts, and refuses if it can't),
# and a trap unmounts whatever a run interrupted mid-way left mounted.

PY314_MIN=3.14.2
PY314=    # the result of py314_python, for the sourcing script
PY314_CACHE=${DAYBREAK_CACHE:-${XDG_CACHE_HOME:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache}/daybreak}
PY314_ROOT=$PY314_CACHE/py314-root
PY314_BIN=$PY314_ROOT/usr/bin/python3.14-host
PY314_SUITES=${DAYBREAK_PY314_SUITES:-sid forky}
PY314_MIRROR=${DAYBREAK_DEBIAN_MIRROR:-http://deb.debian.org/debian}

declare -F log >/dev/null || log() { printf '[setup] %s\n' "$*" >&2; }

# py314_ok PYTHON: true if PYTHON runs and is >= 3.14.2 with the modules HA needs.
py314_ok() {
    "$1" - "$PY314_MIN" <<'EOF' >/dev/null 2>&1
import sys
want = tuple(map(int, sys.argv[1].split(".")))
assert sys.version_info[:3] >= want, sys.version
import bz2, ctypes, hashlib, lzma, sqlite3, ssl, venv, zlib, zoneinfo  # noqa: F401, E401
EOF
}

# py314_find_system: a python3.14 >= 3.14.2 already on this machine (PATH, then pyenv).
py314_find_system() {
    local cand
    if [ -n "${DAYBREAK_PY314:-}" ]; then
        py314_ok "$DAYBREAK_PY314" && { echo "$DAYBREAK_PY314"; return 0; }
        log "ha: DAYBREAK_PY314=$DAYBREAK_PY314 is not a working Python >= $PY314_MIN"
        return 1
    fi
    for cand in $(command -v python3.14 2>/dev/null) \
                $(command -v pyenv >/dev/null 2>&1 && find "$(pyenv root)/versions" -maxdepth 3 \
                      -path '*/versions/3.14*/bin/python3.14' 2>/dev/null | sort -rV); do
        # pyenv's shim exists even when the selected version has no python3.14: test it.
        if py314_ok "$cand"; then
            "$cand" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
    return 1
}

# py314_mounts_under DIR: mount points at or below DIR, deepest first.
py314_mounts_under() {
    local dir
    dir=$(realpath -m "$1")
    awk -v d="$dir" '{ m = $5; gsub(/\\040/, " ", m); if (m == d || index(m, d "/") == 1) print m }' \
        /proc/self/mountinfo | sort -r
}

# py314_umount_under DIR: unmount everything mounted below DIR; false if something stays.
py314_umount_under() {
    local m
    while read -r m; do
        [ -n "$m" ] || continue
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(py314_mounts_under "$1")
    [ -z "$(py314_mounts_under "$1")" ]
}

# py314_safe_rm DIR: rm -rf DIR, but never through a mount (a bind mount would take the
# host's files with it).
py314_safe_rm() {
    local dir=$1
    [ -e "$dir" ] || return 0
    case "$(realpath -m "$dir")" in
        "$(realpath -m "$PY314_CACHE")"/*) ;;
        *) log "ha: refusing to delete $dir (not under $PY314_CACHE)"; return 1 ;;
    esac
    if ! py314_umount_under "$dir"; then
        log "ha: still mounted below $dir, NOT deleting it:"
        py314_mounts_under "$dir" >&2
        return 1
    fi
    rm -rf --one-file-system "$dir"
}

# py314_need_tools: debootstrap and patchelf, from Debian's archive if missing.
py314_need_tools() {
    command -v debootstrap >/dev/null 2>&1 && command -v patchelf >/dev/null 2>&1 && return 0
    if [ "$(id -u)" != 0 ]; then
        log "ha: need debootstrap and patchelf (run as root, or: apt-get install debootstrap patchelf)"
        return 1
    fi
    log "ha: installing debootstrap and patchelf (apt-get) ..."
    mkdir -p "$PY314_CACHE"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends debootstrap patchelf; } >"$PY314_CACHE/apt.log" 2>&1; then
        cat "$PY314_CACHE/apt.log" >&2
        log "ha: apt-get could not install debootstrap and patchelf"
        return 1
    fi
}

# py314_patch: make $PY314_BIN, a copy of the root's python3.14 that runs on the host.
py314_patch() {
    local lib=$PY314_ROOT/usr/lib/x86_64-linux-gnu
    cp -p "$PY314_ROOT/usr/bin/python3.14" "$PY314_BIN.tmp"
    patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" \
        "$PY314_BIN.tmp"
    mv -f "$PY314_BIN.tmp" "$PY314_BIN"
}

# py314_root_healthy: the cached root is complete, its python works, and it runs with this
# root's loader and standard library (not a moved or replaced root's).
py314_root_healthy() {
    [ -f "$PY314_ROOT/.daybreak-ready" ] && [ -x "$PY314_BIN" ] && py314_ok "$PY314_BIN" || return 1
    "$PY314_BIN" - "$PY314_ROOT" <<'EOF' >/dev/null 2>&1
import os, sys
root = os.path.realpath(sys.argv[1])
assert os.path.realpath(sys.prefix) == root + "/usr", sys.prefix
maps = open("/proc/self/maps").read().split()
loaders = {os.path.realpath(p) for p in maps if "/ld-linux" in p}
assert loaders and all(p.startswith(root + "/") for p in loaders), loaders
EOF
}

# py314_build_root: debootstrap the root (first suite that works), patch, check, mark ready.
py314_build_root() {
    local suite tmp t0=$SECONDS ok='' prev_traps
    if [ "$(id -u)" != 0 ]; then
        log "ha: making the Python $PY314_MIN+ root needs root (debootstrap); or install a"
        log "ha: python3.14 >= $PY314_MIN, or point DAYBREAK_PY314 at one"
        return 1
    fi
    if [ "$(uname -m)" != x86_64 ]; then
        log "ha: the Python 3.14 root is only made on x86_64 (this is $(uname -m)): set DAYBREAK_PY314"
        return 1
    fi
    py314_need_tools
    mkdir -p "$PY314_CACHE"
    if [ -e "$PY314_ROOT" ]; then
        log "ha: removing the unusable $PY314_ROOT"
        py314_safe_rm "$PY314_ROOT"
    fi
    tmp=$PY314_CACHE/py314-root.new
    # An interrupted debootstrap may leave proc/sys mounted in $tmp: unmount on any exit.
    prev_traps=$(trap -p EXIT INT TERM)
    # shellcheck disable=SC2064
    trap "py314_umount_under '$tmp' || true" EXIT
    trap 'exit 130' INT TERM
    for suite in $PY314_SUITES; do
        py314_safe_rm "$tmp"
        log "ha: debootstrap $suite with python3.14 into $tmp (once; ~30-60 s, ~250 MB) ..."
        if debootstrap --variant=minbase --include=python3.14,python3.14-venv,ca-certificates \
                "$suite" "$tmp" "$PY314_MIRROR" >"$PY314_CACHE/debootstrap-$suite.log" 2>&1; then
            ok=1
            break
        fi
        log "ha: debootstrap $suite failed (see $PY314_CACHE/debootstrap-$suite.log)"
        py314_umount_under "$tmp" || true
    done
    py314_umount_under "$tmp" || { log "ha: cannot unmount below $tmp"; return 1; }
    trap - EXIT INT TERM
    eval "$prev_traps"
    [ -n "$ok" ] || { py314_safe_rm "$tmp"; return 1; }
    # The CA bundle, for tools run inside the root (pip here runs outside: not needed by it);
    # the host's pip settings (local find-links and file:// indexes) are NOT copied.
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
        cp /etc/ssl/certs/ca-certificates.crt "$tmp/etc/ssl/certs/ca-certificates.crt"
    fi
    rm -f "$tmp"/var/cache/apt/archives/*.deb
    mv "$tmp" "$PY314_ROOT"
    py314_patch
    if ! py314_ok "$PY314_BIN"; then
        log "ha: the patched python3.14 does not work:"
        "$PY314_BIN" -c 'import ssl, sqlite3, ctypes, venv' || true
        return 1
    fi
    touch "$PY314_ROOT/.daybreak-ready"
    log "ha: $("$PY314_BIN" --version) ready in $PY314_ROOT ($((SECONDS - t0)) s, $(du -sh "$PY314_ROOT" | cut -f1))"
}

# py314_python: set PY314 to a Python >= 3.14.2 (system, else the cached root's, made if
# needed). Call it as a plain command, not in $(...) or after || / &&, so that set -e
# stays in force while the root is built.
py314_python() {
    PY314=
    if PY314=$(py314_find_system); then
        return 0
    fi
    if [ -n "${DAYBREAK_PY314:-}" ]; then
        return 1
    fi
    mkdir -p "$PY314_CACHE"
    # One builder at a time (several checkouts or runs may share the cache).
    local lock
    exec {lock}>"$PY314_CACHE/py314.lock"
    flock "$lock"
    if ! py314_root_healthy && [ -f "$PY314_ROOT/.daybreak-ready" ] \
            && [ -x "$PY314_ROOT/usr/bin/python3.14" ]; then
        log "ha: re-patching $PY314_BIN"     # e.g. the root was moved here from elsewhere
        py314_need_tools
        py314_patch
    fi
    if ! py314_root_healthy; then
        py314_build_root
    fi
    exec {lock}>&-
    if ! py314_root_healthy; then
        log "ha: no usable Python >= $PY314_MIN"
        return 1
    fi
    PY314=$PY314_BIN
}
