"""A clock tests can move: services take it for database times and live-state expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

from fairserver.clock import utcnow


class FakeTime:
    """One clock for the database timestamps and the live store's expiry."""

    def __init__(self) -> None:
        self.now = utcnow()

    def wall(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
