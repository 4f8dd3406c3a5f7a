"""Every registered socket event has an asserted decision for every role.

Each tests/test_socket_<domain>.py defines SOCKET_DECISIONS (event -> role ->
"ok" or error code) and a test that runs it. This test fails when an event is
registered without a row, or a row misses a role, so no handler ships untested.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from fairserver.keys import SOCKETS
from fairserver.socket.domains import load_domains
from tests.factories import ROLES

SIGNED_IN = set(ROLES) - {"anonymous"}
# Test modules outside test_socket_*.py whose SOCKET_DECISIONS count too.
ALSO = ("test_agreements",)


def collected_decisions() -> dict[str, dict[str, str]]:
    decisions: dict[str, dict[str, str]] = {}
    here = Path(__file__).parent
    for path in sorted([*here.glob("test_socket_*.py"), *(here / f"{m}.py" for m in ALSO)]):
        module = importlib.import_module(f"tests.{path.stem}")
        for event, row in getattr(module, "SOCKET_DECISIONS", {}).items():
            assert event not in decisions, f"{event} has decisions in two files"
            decisions[event] = row
    return decisions


def test_every_socket_event_has_a_decision_for_every_role() -> None:
    registry = load_domains().registry
    decisions = collected_decisions()
    missing = set(registry.specs) - set(decisions)
    assert not missing, f"socket events without a tested decision: {sorted(missing)}"
    stale = set(decisions) - set(registry.specs)
    assert not stale, f"decisions for events that are not registered: {sorted(stale)}"
    incomplete = {
        event: sorted(SIGNED_IN - set(row))
        for event, row in decisions.items()
        if SIGNED_IN - set(row)
    }
    assert not incomplete, f"decisions missing roles: {incomplete}"


def test_the_running_server_registers_exactly_the_registry(client: TestClient[Any, Any]) -> None:
    registry = load_domains().registry
    registered = set(client.app[SOCKETS].sio.handlers["/"])
    # connect, disconnect, and "*": the catch-all that answers an unknown event's ack.
    assert {"connect", "disconnect", "*"} <= registered
    assert registered - {"connect", "disconnect", "*"} == set(registry.specs)


def test_every_socket_event_is_documented() -> None:
    protocol = (Path(__file__).parent.parent / "docs" / "protocol.md").read_text()
    undocumented = sorted(
        name for name in load_domains().registry.specs if f"`{name}`" not in protocol
    )
    assert not undocumented, f"add these events to docs/protocol.md: {undocumented}"
