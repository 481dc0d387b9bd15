"""Zeroconf: the device advertises itself on the LAN as ``_daybreak._tcp.local.``.

python-zeroconf answers mDNS / DNS-SD queries for one service: instance name the
device name, port the HTTP port, TXT records ``id`` (device id), ``protocol``
(protocol version), ``api`` (REST path) and ``version`` (software version). A device
bound to one address is advertised on that interface with that address only; one
bound to all addresses (``0.0.0.0`` or ``::``) on every interface with the machine's
addresses. Registration (its name probing takes a second or two) runs in the
background; the server does not wait for it and keeps serving if zeroconf fails.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket

import ifaddr
from zeroconf import InterfaceChoice, IPVersion, ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

from .protocol import PROTOCOL_VERSION

_LOGGER = logging.getLogger(__name__)

SERVICE_TYPE = "_daybreak._tcp.local."
#: Where to advertise: all interfaces, or the addresses of some.
Interfaces = InterfaceChoice | list[str]
API_PATH = "/api"


def build_service_info(
    *, name: str, device_id: str, port: int, addresses: list[str], version: str
) -> ServiceInfo:
    """The DNS-SD service the device advertises."""
    instance = name.encode()[:63].decode(errors="ignore") or "Daybreak"  # one DNS label
    return ServiceInfo(
        SERVICE_TYPE,
        f"{instance}.{SERVICE_TYPE}",
        port=port,
        properties={
            "id": device_id,
            "protocol": str(PROTOCOL_VERSION),
            "api": API_PATH,
            "version": version,
        },
        parsed_addresses=addresses,
        server=f"daybreak-{device_id}.local.",
    )


def machine_addresses(*, ipv6: bool) -> list[str]:
    """The machine's IPv4 (and with ``ipv6`` IPv6) addresses; loopback ones only if alone."""
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                found.append(ipaddress.IPv4Address(ip.ip))
            elif ipv6:
                address, _flowinfo, scope_id = ip.ip
                if not scope_id:  # link-local addresses need a scope: leave them out
                    found.append(ipaddress.IPv6Address(address))
    found.sort(key=lambda a: a.version)
    usable = [a for a in found if not a.is_loopback] or found
    return list(dict.fromkeys(str(a) for a in usable))


def advertising_plan(host: str) -> tuple[Interfaces, IPVersion, list[str]]:
    """Interfaces, IP version and addresses to advertise a server bound to ``host``."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:  # a host name: advertise the address it resolves to
        ip = ipaddress.ip_address(socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0])
    if ip.is_unspecified:
        if ip.version == 4:
            return InterfaceChoice.All, IPVersion.V4Only, machine_addresses(ipv6=False)
        return InterfaceChoice.All, IPVersion.All, machine_addresses(ipv6=True)
    version = IPVersion.V4Only if ip.version == 4 else IPVersion.V6Only
    return [str(ip)], version, [str(ip)]


class Advertiser:
    """Registers one service with an :class:`AsyncZeroconf` until :meth:`stop`."""

    def __init__(self, info: ServiceInfo, *, interfaces: Interfaces, ip_version: IPVersion):
        """Prepare; nothing is sent before :meth:`start`."""
        self.info = info
        self._interfaces = interfaces
        self._ip_version = ip_version
        self._zeroconf: AsyncZeroconf | None = None
        self._registration: asyncio.Task[None] | None = None
        self.registered = asyncio.Event()

    async def start(self) -> None:
        """Open zeroconf and register in the background; failures are logged, not raised."""
        try:
            self._zeroconf = AsyncZeroconf(interfaces=self._interfaces, ip_version=self._ip_version)
        except OSError as err:
            _LOGGER.error("Zeroconf unavailable, not advertising the device: %s", err)  # noqa: TRY400
            return
        self._registration = asyncio.create_task(self._register(), name="daybreak zeroconf")

    async def _register(self) -> None:
        assert self._zeroconf is not None  # noqa: S101 - set before this task starts
        try:
            announce = await self._zeroconf.async_register_service(
                self.info, allow_name_change=True
            )
            await announce
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception("Zeroconf registration of %s failed", self.info.name)
            return
        _LOGGER.info(
            "Advertised as %s on %s port %d",
            self.info.name,
            ", ".join(self.info.parsed_addresses()),
            self.info.port,
        )
        self.registered.set()

    async def stop(self) -> None:
        """Withdraw the service (goodbye packets) and close zeroconf."""
        task, self._registration = self._registration, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
        zeroconf, self._zeroconf = self._zeroconf, None
        if zeroconf is not None:
            try:
                await zeroconf.async_close()
            except Exception:
                _LOGGER.exception("Closing zeroconf failed")
