"""Which origins a request may claim: its own, configured ones, and forwarded ones
only when they come from a trusted proxy (a client can forge X-Forwarded-*)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from fairserver.settings import Settings


def from_trusted_proxy(settings: Settings, peer: str | None) -> bool:
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies)


def own_origins(
    settings: Settings, scheme: str, host: str, peer: str | None, headers: Mapping[str, str]
) -> set[str]:
    if settings.public_origin is not None:
        # A configured public origin is the only own one: a forged Host proves nothing.
        return {settings.public_origin, *settings.allowed_origins}
    origins = {f"{scheme}://{host}", *settings.allowed_origins}
    if from_trusted_proxy(settings, peer):
        forwarded_host = headers.get("X-Forwarded-Host", host).split(",")[0].strip()
        forwarded_proto = headers.get("X-Forwarded-Proto", scheme).split(",")[0].strip()
        origins.add(f"{forwarded_proto}://{forwarded_host}")
    return origins


def client_address(settings: Settings, peer: str | None, headers: Mapping[str, str]) -> str:
    """The client's address: the peer's, or behind a trusted proxy the nearest address in
    X-Forwarded-For that is not one of our proxies (the ones left of it can be forged)."""
    if not from_trusted_proxy(settings, peer):
        return peer or ""
    hops = [h.strip() for h in headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not from_trusted_proxy(settings, hop):
            return hop
    return peer or ""


def websocket_source(settings: Settings, scheme: str, host: str) -> str:
    """The CSP connect-src entry for our own websocket: the public origin's, or this host's."""
    origin = settings.public_origin or f"{scheme}://{host}"
    return "ws" + origin.removeprefix("http")
