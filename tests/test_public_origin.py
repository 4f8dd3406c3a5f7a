"""FAIRSERVER_PUBLIC_ORIGIN (issue 11, finding 8): once set, it is the server's only own
origin, so a forged Host header no longer makes a foreign page same-origin; and the CSP's
connect-src names our own websocket instead of any host's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient, TestServer

from fairserver.app import create_app
from fairserver.keys import DB
from fairserver.settings import Settings, SettingsError
from tests.conftest import test_settings as settings_for
from tests.factories import build_world
from tests.sockets import connected

PUBLIC = "https://fair.example.edu"


async def _login_form(client: TestClient[Any, Any], origin: str) -> int:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert token
    response = await client.post(
        "/login",
        data={"email": "x@y.z", "password": "p", "csrf_token": token.group(1)},
        headers={"Origin": origin},
        allow_redirects=False,
    )
    return response.status


async def test_with_a_public_origin_the_host_header_is_not_our_origin(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path, public_origin=PUBLIC))
    async with TestClient(TestServer(app)) as client:
        own_host = str(client.make_url("")).rstrip("/")
        assert await _login_form(client, own_host) == 403
        assert await _login_form(client, PUBLIC) == 400  # reached the form: wrong password
        world = await build_world(client.app[DB], client.app)
        with pytest.raises(socketio.exceptions.ConnectionError):
            async with connected(client, world, "student_a", headers={"Origin": own_host}):
                pass
        async with connected(client, world, "student_a", headers={"Origin": PUBLIC}) as sock:
            assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]
        csp = (await client.get("/login")).headers["Content-Security-Policy"]
        assert "connect-src 'self' wss://fair.example.edu;" in csp


async def test_without_one_the_csp_names_only_this_host(client: TestClient[Any, Any]) -> None:
    csp = (await client.get("/login")).headers["Content-Security-Policy"]
    connect = re.search(r"connect-src ([^;]*);", csp)
    assert connect
    host = client.make_url("").host
    assert connect.group(1) == f"'self' ws://{host}:{client.port}"
    assert " ws: " not in csp and "wss:;" not in csp


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://Fair.Example.edu/", "https://fair.example.edu"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_public_origin_setting_is_read(value: str, expected: str) -> None:
    assert Settings.from_env({"FAIRSERVER_PUBLIC_ORIGIN": value}).public_origin == expected


@pytest.mark.parametrize("value", ["fair.example.edu", "https://fair.example.edu/path", "ftp://x"])
def test_a_public_origin_that_is_not_one_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="FAIRSERVER_PUBLIC_ORIGIN"):
        Settings.from_env({"FAIRSERVER_PUBLIC_ORIGIN": value})
