"""ICE settings and TURN credentials, checked against a real coturn (Debian's turnserver)."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection

from fairserver.settings import Settings, SettingsError
from fairserver.webrtc.ice import browser_ice_servers, server_configuration, turn_credential
from tests import conftest
from tests.factories import World
from tests.test_socket_briefing import make_briefing, seated

SECRET = "north-sea-turn-secret-2026"


def test_credential_matches_coturn_rest_scheme() -> None:
    # Expected value computed independently:
    #   printf 1700000600:42 | openssl dgst -sha1 -hmac north-sea-turn-secret-2026 -binary | base64
    assert turn_credential(SECRET, 42, 600, now=1_700_000_000) == (
        "1700000600:42",
        "yVHRSVbhXq2sA48V6KcQTdWboU0=",
    )


def test_browser_servers_follow_settings() -> None:
    assert browser_ice_servers(Settings(), 1) == []
    settings = Settings(
        stun_urls=("stun:stun.fair.example:3478",),
        turn_urls=("turn:turn.fair.example:3478?transport=udp", "turns:turn.fair.example:5349"),
        turn_secret=SECRET,
        turn_ttl_seconds=300,
    )
    stun, turn = browser_ice_servers(settings, 7, now=1000)
    assert stun == {"urls": ["stun:stun.fair.example:3478"]}
    assert turn["urls"] == list(settings.turn_urls)
    assert turn["username"] == "1300:7"
    assert turn["credential"] == turn_credential(SECRET, 7, 300, now=1000)[1]
    # The server itself asks STUN for its public address but never takes a relay.
    assert [s.urls for s in server_configuration(settings).iceServers or []] == [
        ["stun:stun.fair.example:3478"]
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FAIRSERVER_TURN_URLS": "turn:t.example:3478"}, "needs FAIRSERVER_TURN_SECRET"),
        ({"FAIRSERVER_STUN_URLS": "http://t.example"}, "must start with stun:"),
        ({"FAIRSERVER_TURN_URLS": "stun:t.example", "FAIRSERVER_TURN_SECRET": SECRET}, "turn:"),
        ({"FAIRSERVER_TURN_SECRET": "short"}, "at least 16"),
        ({"FAIRSERVER_TURN_TTL_SECONDS": "5"}, "between 60 and 86400"),
    ],
)
def test_bad_ice_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers_stun(port: int) -> bool:
    """A STUN Binding request (RFC 5389 §6) to coturn's UDP listener gets a response."""
    request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + secrets.token_bytes(12)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.2)
        probe.sendto(request, ("127.0.0.1", port))
        try:
            answer = probe.recv(2048)
        except OSError:  # no answer yet, or ICMP port unreachable
            return False
    return answer[:2] == b"\x01\x01" and answer[8:20] == request[8:20]


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[str]:
    """A coturn on loopback with use-auth-secret, as the README's production setup."""
    binary = shutil.which("turnserver")
    assert binary, "turnserver (Debian's coturn) is missing: run `make system`"
    port = _free_udp_port()
    process = subprocess.Popen(
        [
            binary,
            "-n",
            "--listening-ip=127.0.0.1",
            f"--listening-port={port}",
            "--relay-ip=127.0.0.1",
            "--use-auth-secret",
            f"--static-auth-secret={SECRET}",
            "--realm=fair.test",
            "--no-cli",
            "--no-tls",
            "--no-dtls",
            "--no-tcp",  # only the UDP port was checked free; a taken TCP port stalls coturn
            "--allow-loopback-peers",
            f"--log-file={tmp_path / 'turn.log'}",
            f"--pidfile={tmp_path / 'turn.pid'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while not _answers_stun(port):
            assert process.poll() is None, _read(tmp_path)
            assert time.monotonic() < deadline, f"coturn never answered:\n{_read(tmp_path)}"
        yield f"turn:127.0.0.1:{port}?transport=udp"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _read(directory: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in directory.glob("turn*.log"))


async def _relay_candidates(server: dict[str, Any]) -> list[str]:
    """What a browser would gather with this iceServers entry: its relay candidates."""
    pc = RTCPeerConnection(
        RTCConfiguration(
            iceServers=[
                RTCIceServer(
                    urls=server["urls"],
                    username=server["username"],
                    credential=server["credential"],
                )
            ]
        )
    )
    try:
        pc.createDataChannel("probe")
        await asyncio.wait_for(pc.setLocalDescription(await pc.createOffer()), 15)
        return [line for line in pc.localDescription.sdp.splitlines() if "typ relay" in line]
    finally:
        await pc.close()


async def test_coturn_accepts_minted_credentials_until_they_expire(coturn: str) -> None:
    settings = Settings(turn_urls=(coturn,), turn_secret=SECRET, turn_ttl_seconds=600)
    (fresh,) = browser_ice_servers(settings, 42)
    assert await _relay_candidates(fresh), "coturn refused a fresh credential"

    (expired,) = browser_ice_servers(settings, 42, now=time.time() - 3600)
    assert await _relay_candidates(expired) == []

    wrong = {**fresh, "credential": turn_credential("another-secret-0123", 42, 600)[1]}
    assert await _relay_candidates(wrong) == []


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return conftest.test_settings(
        tmp_path,
        stun_urls=("stun:stun.fair.example:3478",),
        turn_urls=("turn:turn.fair.example:3478",),
        turn_secret=SECRET,
    )


async def test_media_state_mints_a_credential_per_user(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    names: dict[str, str] = {}
    for who in ("student_a", "recruiter_a"):
        async with seated(client, world, who, bid) as (sock, _):
            reply = await sock.call("media.state", {"briefing_id": bid})
            assert reply["ok"], reply
            stun, turn = reply["data"]["ice_servers"]
            assert stun["urls"] == ["stun:stun.fair.example:3478"]
            expires, user = turn["username"].split(":")
            assert user == str(world.users[who])
            assert 0 < int(expires) - time.time() <= 600
            names[who] = turn["username"]
    assert names["student_a"] != names["recruiter_a"]
