"""Who is asking, and over https or not: ``X-Forwarded-*`` believed only from a configured proxy.

Behind a TLS proxy (nginx) every request arrives from the proxy's address over plain http;
the proxy says who the client was (``X-Forwarded-For``) and how they came
(``X-Forwarded-Proto``). Anyone can send those headers, so they count only when the
request's own peer is a trusted proxy (``readingroom serve --trusted-proxy``). Tornado's
``xheaders`` would believe them from every peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from tornado import web

from readingroom.errors import InputError

TRUSTED_PROXIES_SETTING = "readingroom_trusted_proxies"  # tornado setting: tuple of ip_network

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(given: Iterable[str]) -> tuple[Network, ...]:
    """``--trusted-proxy`` values (an address or a network such as 10.0.0.0/24) checked; one line on a typo."""
    networks = []
    for value in given:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise InputError(f"--trusted-proxy {value!r} is not an IP address or network; give the proxy's "
                             "address as the server sees it, e.g. --trusted-proxy 127.0.0.1") from None
    return tuple(networks)


def client_address(handler: web.RequestHandler) -> str:
    """The client's address: the peer's, or from a trusted proxy the nearest untrusted hop it forwarded."""
    peer = handler.request.remote_ip or ""
    proxies = handler.settings.get(TRUSTED_PROXIES_SETTING) or ()
    if not _within(peer, proxies):
        return peer
    hops = [h.strip() for line in handler.request.headers.get_list("X-Forwarded-For") for h in line.split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _within(hop, proxies):
            return hop if _parses(hop) else peer  # a malformed hop: count the request against the proxy
    return peer


def came_over_https(handler: web.RequestHandler) -> bool:
    """True when the browser's connection is https: ours, or the trusted proxy's by its X-Forwarded-Proto."""
    if handler.request.protocol == "https":
        return True
    if not _within(handler.request.remote_ip or "", handler.settings.get(TRUSTED_PROXIES_SETTING) or ()):
        return False
    said = handler.request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    return said == "https"


class SecureBehindProxy(web.RequestHandler):
    """Every cookie this handler sets (the _xsrf one too) is ``Secure`` when the browser came over https."""

    def set_cookie(self, name: str, value: str | bytes, *args, **kwargs) -> None:
        if came_over_https(self):
            kwargs["secure"] = True
        super().set_cookie(name, value, *args, **kwargs)


def _parses(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    if not networks or not _parses(address):
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in networks)
