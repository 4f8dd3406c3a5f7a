"""The socket domains, merged into one registry with their hooks."""

from __future__ import annotations

from types import ModuleType

from fairserver.socket.booths import live as booth_live
from fairserver.socket.briefings import live as briefing_live
from fairserver.socket.briefings import recording, stage
from fairserver.socket.fairs import dashboard
from fairserver.socket.fairs import live as fair_live
from fairserver.socket.interviews import agreements as interview_agreements
from fairserver.socket.interviews import handoff as interview_handoff
from fairserver.socket.interviews import outcomes as interview_outcomes
from fairserver.socket.interviews import rooms as interview_rooms
from fairserver.socket.interviews import slots as interview_slots
from fairserver.socket.kit import Domains

# Each module has `events: EventRegistry` and may have `on_disconnect(services, conn,
# reason)` and `on_heartbeat(services, conn)`. Hooks run in this order: fair first.
# Media domains also give the typed calls their rooms' media home runs (`HOME_ROUTES`, the
# services' commands and the functions registered to them) and say which rooms are live on
# this worker (`HOME_ROOMS`: room kind -> activity check).
DOMAIN_MODULES: tuple[ModuleType, ...] = (
    fair_live,
    booth_live,
    briefing_live,
    dashboard,
    stage,
    recording,
    interview_rooms,
    interview_agreements,
    interview_outcomes,
    interview_slots,
    interview_handoff,
)


def load_domains() -> Domains:
    domains = Domains()
    for module in DOMAIN_MODULES:
        for event_name, spec in module.events.specs.items():
            if event_name in domains.registry.specs:
                raise ValueError(f"socket event {event_name} is defined twice")
            domains.registry.specs[event_name] = spec
        if hasattr(module, "on_disconnect"):
            domains.on_disconnect.append(module.on_disconnect)
        if hasattr(module, "on_heartbeat"):
            domains.on_heartbeat.append(module.on_heartbeat)
        if hasattr(module, "HOME_ROUTES"):
            domains.home_routes.update(module.HOME_ROUTES)
        domains.home_rooms.update(getattr(module, "HOME_ROOMS", {}))
    return domains
