"""The one owner of every RTCPeerConnection; each is closed exactly once.

Every terminal path goes through ``PeerRegistry.close``: the connection reaching ``failed``,
``closed`` or ``disconnected`` (aiortc 1.16 never reports ``disconnected``, browsers' ICE
can), the participant leaving or being removed (``close_participant``), and shutdown
(``close_all``). ``close`` is idempotent and concurrent calls share one closing task, so the
peer's ``on_close`` callbacks (e.g. ``MediaRoom.leave``) run once per connection.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc import RTCConfiguration, RTCPeerConnection

TERMINAL_STATES = frozenset({"failed", "closed", "disconnected"})

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Peer:
    peer_id: str
    participant: str
    pc: RTCPeerConnection
    on_close: list[Callable[[Peer], None]] = field(default_factory=list)


class PeerRegistry:
    """Creates, tracks and closes the peer connections of one process."""

    def __init__(self, configuration: RTCConfiguration | None = None) -> None:
        self._configuration = configuration
        self._peers: dict[str, Peer] = {}
        self._closing: dict[str, asyncio.Task[None]] = {}
        self._ids = itertools.count(1)
        self.closed_count = 0

    def __len__(self) -> int:
        return len(self._peers)

    def __contains__(self, peer_id: object) -> bool:
        return peer_id in self._peers

    def get(self, peer_id: str) -> Peer | None:
        return self._peers.get(peer_id)

    def of_participant(self, participant: str) -> list[Peer]:
        return [peer for peer in self._peers.values() if peer.participant == participant]

    def open(self, participant: str) -> Peer:
        """A new connection for ``participant``, closed by the registry on any terminal state."""
        pc = RTCPeerConnection(self._configuration)
        peer = Peer(peer_id=f"pc{next(self._ids)}", participant=participant, pc=pc)
        self._peers[peer.peer_id] = peer

        @pc.on("connectionstatechange")
        def _on_state() -> None:
            if pc.connectionState in TERMINAL_STATES:
                self._start_closing(peer)

        return peer

    async def close(self, peer_id: str) -> None:
        """Close one connection; a no-op when it is already closed or unknown."""
        peer = self._peers.get(peer_id)
        task = self._closing.get(peer_id)
        if task is None and peer is not None:
            task = self._start_closing(peer)
        if task is not None:
            # Shielded: a caller cancelled mid-close must not leave a half-closed peer.
            await asyncio.shield(task)

    async def close_participant(self, participant: str) -> None:
        await asyncio.gather(*(self.close(p.peer_id) for p in self.of_participant(participant)))

    async def close_all(self) -> None:
        await asyncio.gather(*(self.close(peer_id) for peer_id in tuple(self._peers)))

    def _start_closing(self, peer: Peer) -> asyncio.Task[None]:
        task = self._closing.get(peer.peer_id)
        if task is None:
            task = asyncio.ensure_future(self._close(peer))
            self._closing[peer.peer_id] = task
        return task

    async def _close(self, peer: Peer) -> None:
        try:
            await peer.pc.close()
        finally:
            self._peers.pop(peer.peer_id, None)
            self._closing.pop(peer.peer_id, None)
            self.closed_count += 1
            for callback in peer.on_close:
                try:
                    callback(peer)
                except Exception:
                    logger.exception("on_close callback failed for %s", peer.peer_id)
