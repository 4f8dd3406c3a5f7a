"""briefing socket events."""

from __future__ import annotations

from fairserver.socket.kit import EventRegistry

events = EventRegistry()
