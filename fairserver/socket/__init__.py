"""Socket.io handlers, one module per domain, merged into one registry."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fairserver.rooms.context import Services
from fairserver.rooms.media_home import Handler, RoomActivity
from fairserver.socket.kit import Connection, EventRegistry

# Each module has `events: EventRegistry` and may have `on_disconnect(services, conn,
# reason)` and `on_heartbeat(services, conn)`. Hooks run in this order: fair first.
# Media domains also name the calls their rooms' media home runs (`HOME_CALLS`) and say
# which rooms are live on this worker (`HOME_ROOMS`: room kind -> activity check).
DOMAIN_MODULES = ("fair", "booth", "briefing", "dashboard", "media", "recording", "interview")

DisconnectHook = Callable[[Services, Connection, str], Awaitable[None]]
HeartbeatHook = Callable[[Services, Connection], Awaitable[None]]


@dataclass
class Domains:
    registry: EventRegistry = field(default_factory=EventRegistry)
    on_disconnect: list[DisconnectHook] = field(default_factory=list)
    on_heartbeat: list[HeartbeatHook] = field(default_factory=list)
    home_calls: dict[str, Handler] = field(default_factory=dict)
    home_rooms: dict[str, RoomActivity] = field(default_factory=dict)


def load_domains() -> Domains:
    domains = Domains()
    for name in DOMAIN_MODULES:
        module = importlib.import_module(f"fairserver.socket.{name}")
        for event_name, spec in module.events.specs.items():
            if event_name in domains.registry.specs:
                raise ValueError(f"socket event {event_name} is defined twice")
            domains.registry.specs[event_name] = spec
        if hasattr(module, "on_disconnect"):
            domains.on_disconnect.append(module.on_disconnect)
        if hasattr(module, "on_heartbeat"):
            domains.on_heartbeat.append(module.on_heartbeat)
        domains.home_calls.update(getattr(module, "HOME_CALLS", {}))
        domains.home_rooms.update(getattr(module, "HOME_ROOMS", {}))
    return domains
