"""docs/protocol.md lists every HTTP route the app serves (the socket events are checked in
test_socket_security.py)."""

from __future__ import annotations

import re
from pathlib import Path

from fairserver.app import create_app
from fairserver.settings import Settings

PROTOCOL = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def _shape(path: str) -> str:
    """A path with its placeholders blanked, so `{id}` and `{interview_id}` compare equal."""
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/"))


def test_every_route_is_in_protocol_md(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))
    text = PROTOCOL.read_text()
    documented = {_shape(m) for m in re.findall(r"(/[A-Za-z0-9_./{}:\\-]*)", text)}
    missing = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if path and _shape(str(path)) not in documented:
            missing.add(str(path))
    assert not missing, f"add these routes to docs/protocol.md: {sorted(missing)}"
