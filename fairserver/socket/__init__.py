"""Socket.io handlers, one module per domain, merged into one registry."""

from __future__ import annotations

import importlib

from fairserver.socket.kit import EventRegistry
from fairserver.socket.server import DisconnectHook

# Each module has `events: EventRegistry` and may have `on_disconnect`.
DOMAIN_MODULES = ("fair", "booth", "briefing")


def build_registry() -> tuple[EventRegistry, list[DisconnectHook]]:
    registry = EventRegistry()
    hooks: list[DisconnectHook] = []
    for name in DOMAIN_MODULES:
        module = importlib.import_module(f"fairserver.socket.{name}")
        for event_name, spec in module.events.specs.items():
            if event_name in registry.specs:
                raise ValueError(f"socket event {event_name} is defined twice")
            registry.specs[event_name] = spec
        if hasattr(module, "on_disconnect"):
            hooks.append(module.on_disconnect)
    return registry, hooks
