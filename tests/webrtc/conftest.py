"""Fixtures for the in-process WebRTC tests: two registries that close everything."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiortc import RTCConfiguration

from fairserver.webrtc.peers import PeerRegistry

# No STUN: everything runs on this machine's host candidates.
NO_ICE_SERVERS = RTCConfiguration(iceServers=[])


@pytest.fixture
async def server() -> AsyncIterator[PeerRegistry]:
    """The server's registry, as the media home would own it."""
    registry = PeerRegistry(NO_ICE_SERVERS)
    yield registry
    await registry.close_all()
    assert len(registry) == 0


@pytest.fixture
async def browsers() -> AsyncIterator[PeerRegistry]:
    """The participants' side of each connection (stand-ins for browsers)."""
    registry = PeerRegistry(NO_ICE_SERVERS)
    yield registry
    await registry.close_all()
    assert len(registry) == 0
