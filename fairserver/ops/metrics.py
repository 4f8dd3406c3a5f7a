"""Prometheus metrics (prometheus-client), correct under `serve --workers N`.

One process: the default registry, exposed as is. Several workers: the supervisor gives
every worker the same PROMETHEUS_MULTIPROC_DIR before it starts (prometheus-client picks
its value class when this module is first imported), each worker writes its values to
files there, and whichever worker answers /metrics adds them all up
(MultiProcessCollector). Gauges say how they combine: "livesum" adds the live workers'
values, "livemax" takes the largest; a dead worker's gauges are dropped by the supervisor
(mark_process_dead), its counters and histograms stay, as Prometheus expects.

Counters and histograms are updated where things happen (an event handled, a query run,
a request answered). Gauges of things that exist (sockets, rooms, queued packets, media
viewers) are sampled: every few seconds, and by the answering worker just before it
answers, so its own figures are current and the others' at most SAMPLE_SECONDS old.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SAMPLE_SECONDS = 5.0
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Socket events answer in milliseconds; the upper buckets catch a stalled database.
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

SOCKETS = Gauge(
    "fairserver_sockets_connected", "Connected socket.io clients", multiprocess_mode="livesum"
)
ROOMS = Gauge(
    "fairserver_socket_rooms",
    "Rooms (fair, booth, briefing, interview, user) with at least one socket in them",
    multiprocess_mode="livesum",
)
EVENTS = Counter("fairserver_socket_events", "Socket events handled", ["event", "outcome"])
ACK_SECONDS = Histogram(
    "fairserver_socket_ack_seconds",
    "Time from an event's arrival to its reply",
    ["event"],
    buckets=_FAST,
)
FANOUT_QUEUED = Gauge(
    "fairserver_fanout_queued_packets",
    "Packets waiting in the clients' send queues",
    multiprocess_mode="livesum",
)
FANOUT_DEEPEST = Gauge(
    "fairserver_fanout_queue_depth_max",
    "The deepest single client's send queue (clients are dropped at the cap)",
    multiprocess_mode="livemax",
)
SLOW_CLIENTS = Counter(
    "fairserver_fanout_slow_clients_dropped", "Clients disconnected for not reading"
)
MEDIA_SOURCES = Gauge(
    "fairserver_media_sources",
    "Published audio and video tracks",
    ["kind"],
    multiprocess_mode="livesum",
)
MEDIA_VIEWERS = Gauge(
    "fairserver_media_viewers",
    "Viewer tracks fed by the forwarding core (full and low rendition)",
    ["kind"],
    multiprocess_mode="livesum",
)
MEDIA_IN_BPS = Gauge(
    "fairserver_media_ingest_bits_per_second",
    "Bitrate received from publishers, over the last sample",
    ["kind"],
    multiprocess_mode="livesum",
)
MEDIA_OUT_BPS = Gauge(
    "fairserver_media_forward_bits_per_second",
    "Bitrate forwarded to viewers (ingest times viewers), over the last sample",
    ["kind"],
    multiprocess_mode="livesum",
)
DB_SECONDS = Histogram(
    "fairserver_db_query_seconds", "Database statement time", ["statement"], buckets=_FAST
)
HTTP_REQUESTS = Counter("fairserver_http_requests", "HTTP requests answered", ["method", "status"])
HTTP_SECONDS = Histogram(
    "fairserver_http_request_seconds", "HTTP request time (websockets excluded)", buckets=_FAST
)

_STATEMENTS = frozenset({"select", "insert", "update", "delete", "with"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def statement_kind(sql: str) -> str:
    """A bounded label for a statement: its verb, or "other" (DDL, PRAGMA, SAVEPOINT)."""
    head = sql.lstrip()[:8].split(None, 1)
    verb = head[0].lower() if head else ""
    return verb if verb in _STATEMENTS else "other"


def observe_request(method: str, status: int, seconds: float | None) -> None:
    HTTP_REQUESTS.labels(method if method in _METHODS else "OTHER", str(status)).inc()
    if seconds is not None:
        HTTP_SECONDS.observe(seconds)


def observe_event(event: str, ok: bool, seconds: float) -> None:
    EVENTS.labels(event, "ok" if ok else "error").inc()
    ACK_SECONDS.labels(event).observe(seconds)


@dataclass
class MediaSampler:
    """Bitrates from the sources' byte counters between two samples."""

    last_bytes: dict[int, int] = field(default_factory=dict)
    last_time: float | None = None

    def sample(self, sources: Iterable[Any]) -> None:
        now = time.monotonic()
        elapsed = None if self.last_time is None else max(now - self.last_time, 1e-3)
        counts: dict[str, dict[str, float]] = {
            kind: {"sources": 0, "viewers": 0, "in": 0.0, "out": 0.0} for kind in ("audio", "video")
        }
        seen: dict[int, int] = {}
        for source in sources:
            figures = counts.setdefault(
                source.kind, {"sources": 0, "viewers": 0, "in": 0.0, "out": 0.0}
            )
            viewers = sum(1 for track in source.viewers if track.counts_as_viewer)
            figures["sources"] += source.receiver is not None
            figures["viewers"] += viewers
            seen[id(source)] = source.bytes
            if elapsed is not None and id(source) in self.last_bytes:
                bps = (source.bytes - self.last_bytes[id(source)]) * 8 / elapsed
                figures["in"] += bps if source.receiver is not None else 0.0
                figures["out"] += bps * viewers
        for kind, figures in counts.items():
            MEDIA_SOURCES.labels(kind).set(figures["sources"])
            MEDIA_VIEWERS.labels(kind).set(figures["viewers"])
            if elapsed is not None:
                MEDIA_IN_BPS.labels(kind).set(figures["in"])
                MEDIA_OUT_BPS.labels(kind).set(figures["out"])
        self.last_bytes, self.last_time = seen, now


def exposition() -> bytes:
    """The text /metrics answers: this process's registry, or every worker's files."""
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return bytes(generate_latest(REGISTRY))
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    return bytes(generate_latest(registry))


def worker_exited(pid: int, path: Path) -> None:
    """Supervisor: drop a dead worker's live gauges so they no longer count."""
    multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]
