"""The ``Host`` check: the device answers only requests addressed to it.

DNS rebinding lets a web page in a browser on the LAN reach the device under the
page's own name (``evil.example`` resolving to the device's address): the browser then
treats the device as the page's origin, and even WebSocket's same-origin check passes
(``Origin`` and ``Host`` are both ``evil.example``). Refusing every request whose
``Host`` is not a name of the device ends that before any work is done.

The device's names: ``localhost``; every IP literal (an address cannot be rebound, and
a page that uses one is cross-origin to the device, which the browser and Engine.IO's
origin check keep apart); its mDNS host name ``daybreak-<device id>.local``; its
configured name and the machine's host name, each also with ``.local``; ``--host``
when it is a name; and the names given with ``--allowed-host`` (e.g. a reverse proxy's).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable

#: A label of a host name as a browser would send it (the device's name may have
#: spaces and capitals; its ``.local`` form as a host name is lower case with hyphens).
_NOT_IN_LABEL = re.compile(r"[^a-z0-9-]+")


def host_name(name: str) -> str:
    """``name`` as a host-name label: lower case, runs of other characters as ``-``."""
    return _NOT_IN_LABEL.sub("-", name.lower()).strip("-")


def _normal(name: str) -> str:
    return name.strip().lower().rstrip(".")


class HostCheck:
    """Which ``Host`` headers the device answers."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        """Allow ``localhost``, every IP literal and ``names`` (case-insensitive)."""
        self._names = {"localhost"}
        self.add(*names)

    def add(self, *names: str) -> None:
        """Allow ``names`` too (a trailing dot and a port are ignored)."""
        self._names.update(_normal(name) for name in names if name.strip())

    @property
    def names(self) -> frozenset[str]:
        """The host names allowed (IP literals are allowed besides these)."""
        return frozenset(self._names)

    def allows(self, host: str | None) -> bool:
        """Whether a request with this ``Host`` header is for the device."""
        if not host:
            return False
        host = host.strip().lower()
        if host.startswith("["):  # [IPv6]:port
            literal, bracket, _port = host[1:].partition("]")
            return bool(bracket) and _is_ip(literal)
        if host.count(":") > 1:  # an IPv6 literal without brackets
            return _is_ip(host)
        name = host.partition(":")[0].rstrip(".")
        return _is_ip(name) or name in self._names


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def device_names(*, name: str, device_id: str, bind: str, allowed: Iterable[str] = ()) -> list[str]:
    """The host names the device answers to (IP literals and ``localhost`` aside)."""
    names = [f"daybreak-{device_id}.local"]
    machine = socket.gethostname().partition(".")[0]
    for label in (host_name(name), host_name(machine)):
        if label:
            names += [label, f"{label}.local"]
    if not _is_ip(bind):
        names.append(bind)
    names += list(allowed)
    return names
