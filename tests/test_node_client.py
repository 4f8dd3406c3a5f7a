"""Protocol compatibility: the official JavaScript socket.io-client, under Node."""

from __future__ import annotations

import asyncio
import json
import shutil
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fairserver.settings import PROJECT_ROOT
from tests.factories import World
from tests.sockets import connected, session_cookie

SCRIPT = PROJECT_ROOT / "tests" / "node" / "fair_client.mjs"


async def _line(process: asyncio.subprocess.Process) -> dict[str, Any]:
    assert process.stdout is not None
    raw = await asyncio.wait_for(process.stdout.readline(), 15)
    assert raw, "the node client exited without output"
    return dict(json.loads(raw))


async def test_official_js_client_joins_and_receives(
    client: TestClient[Any, Any], world: World
) -> None:
    node = shutil.which("node")
    if node is None or not (PROJECT_ROOT / "node_modules" / "socket.io-client").is_dir():
        pytest.fail(
            "node and node_modules/socket.io-client are needed: run the suite through `make test`"
        )
    url = str(client.make_url("")).rstrip("/")
    cookie = await session_cookie(url, world, "student_a")
    process = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        url,
        cookie,
        "campus",
        cwd=str(PROJECT_ROOT),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        joined = await _line(process)
        assert joined["kind"] == "joined", joined
        assert (
            joined["data"]["ok"] is True and joined["data"]["data"]["fair_id"] == world.campus_fair
        )
        async with connected(client, world, "organiser_a") as organiser:
            assert (await organiser.call("fair.join", {"fair": "campus"}))["ok"]
            assert (
                await organiser.call(
                    "fair.announce", {"body": "来自组织方的通知", "client_id": "n1"}
                )
            )["ok"]
            received = await _line(process)
        assert received["kind"] == "announcement"
        assert received["data"]["body"] == "来自组织方的通知" and received["data"]["seq"] == 1
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
