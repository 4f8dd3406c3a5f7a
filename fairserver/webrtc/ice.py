"""ICE servers: what the server's own peers use, and what each browser gets with its room token.

TURN credentials follow coturn's REST API scheme (``use-auth-secret`` with
``static-auth-secret``; draft-uberti-behave-turn-rest): the username is
``"<expiry unix time>:<user id>"`` and the password is
``base64(HMAC-SHA1(secret, username))``. coturn checks both with the shared secret and
refuses the credential once the expiry has passed, so nothing is stored and a leaked
credential dies within ``FAIRSERVER_TURN_TTL_SECONDS``.

The server's own peer connections use only the STUN servers: the server needs its public
address (server-reflexive candidate) when it sits behind NAT, but never a relay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCIceServer

from fairserver.settings import Settings


def turn_credential(
    secret: str, user_id: int, ttl_seconds: int, now: float | None = None
) -> tuple[str, str]:
    """A (username, password) pair that coturn accepts until now + ttl."""
    expires = int(now if now is not None else time.time()) + ttl_seconds
    username = f"{expires}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def browser_ice_servers(
    settings: Settings, user_id: int, now: float | None = None
) -> list[dict[str, Any]]:
    """The ``iceServers`` list for ``new RTCPeerConnection({iceServers})`` in one browser."""
    servers: list[dict[str, Any]] = []
    if settings.stun_urls:
        servers.append({"urls": list(settings.stun_urls)})
    if settings.turn_urls and settings.turn_secret:
        username, credential = turn_credential(
            settings.turn_secret, user_id, settings.turn_ttl_seconds, now
        )
        servers.append(
            {"urls": list(settings.turn_urls), "username": username, "credential": credential}
        )
    return servers


def server_configuration(settings: Settings) -> RTCConfiguration:
    """aiortc's configuration for the server's peers: STUN only, host candidates otherwise."""
    return RTCConfiguration(
        iceServers=[RTCIceServer(urls=list(settings.stun_urls))] if settings.stun_urls else []
    )


def bundled_configuration(settings: Settings) -> RTCConfiguration:
    """The media sessions' configuration: the server's ICE, every m-line on one transport.

    aiortc 1.16's default (balanced) bundles a second m-line of a kind onto the first one's
    transport before the offer is applied; applying the offer's BUNDLE group then moves that
    first m-line to the bundle transport and discards the old one, so a second audio (a
    viewer of two co-presenters) never flows. Browsers always offer BUNDLE (see lines.py).
    """
    ice = server_configuration(settings).iceServers
    return RTCConfiguration(iceServers=ice, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
