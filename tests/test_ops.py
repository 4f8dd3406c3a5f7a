"""Operations: JSON log lines with request ids, and /metrics (one process; the multi-worker
sum is in tests/test_scaleout.py)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import urllib.request
from pathlib import Path
from typing import Any

import av
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from fairserver.app import create_app
from fairserver.keys import DB
from fairserver.ops import logs, metrics
from fairserver.settings import Settings, SettingsError
from fairserver.webrtc.passthrough import EncodedFrame
from fairserver.webrtc.sources import Source, ViewerTrack
from tests.conftest import test_settings as make_settings
from tests.factories import World, build_world
from tests.servers import start_server
from tests.sockets import connected

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_log_line_is_json_whatever_the_message_holds() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.json_formatter())
    handler.addFilter(logs.RequestIdFilter())
    log = logging.getLogger("tests.ops.json")
    log.addHandler(handler)
    log.propagate = False
    token = logs.REQUEST_ID.set("req-0123456789")
    try:
        log.warning('a "quoted" name,\nand a second line \\ with a backslash')
        try:
            {}["missing"]
        except KeyError:
            log.exception("lookup of %s failed", '"missing"')
    finally:
        logs.REQUEST_ID.reset(token)
        log.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2  # the message's newline and the traceback stay inside their line
    first, second = (json.loads(line) for line in lines)
    assert first["msg"] == 'a "quoted" name,\nand a second line \\ with a backslash'
    assert first["level"] == "WARNING" and first["request_id"] == "req-0123456789"
    assert second["msg"] == 'lookup of "missing" failed'
    assert "Traceback (most recent call last)" in second["exc_info"]
    assert "KeyError: 'missing'" in second["exc_info"]


def test_a_request_id_offered_is_kept_only_when_plain() -> None:
    assert logs.new_request_id("nginx-0123abcd") == "nginx-0123abcd"
    for bad in ("short", 'x"y' * 5, "a" * 65, "id with spaces", "crlf\r\ninjected-0123"):
        fresh = logs.new_request_id(bad)
        assert re.fullmatch(r"[0-9a-f]{16}", fresh), (bad, fresh)


def test_a_real_server_logs_json_lines_with_the_request_id(tmp_path: Path) -> None:
    server = start_server(
        tmp_path, {"FAIRSERVER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"}
    )
    try:
        asked = urllib.request.Request(  # noqa: S310 (loopback)
            f"{server.url}/healthz", headers={"X-Request-Id": "probe-42424242"}
        )
        with urllib.request.urlopen(asked, timeout=10) as response:  # noqa: S310
            assert response.headers["X-Request-Id"] == "probe-42424242"
        try:
            urllib.request.urlopen(f"{server.url}/no/%22such%22/page", timeout=10)  # noqa: S310
        except urllib.error.HTTPError as missing:
            assert missing.code == 404
            generated = missing.headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{16}", generated)
    finally:
        server.stop()
    records = []
    for line in server.log().splitlines():
        if line.startswith("fairserver on http://"):
            continue  # the start-up banner, printed to stdout for a person
        records.append(json.loads(line))  # every other line is one JSON object
    access = [r for r in records if r["logger"] == "fairserver.access"]
    by_id = {r["request_id"]: r for r in access}
    assert by_id["probe-42424242"]["path"] == "/healthz"
    assert by_id["probe-42424242"]["status"] == 200
    assert by_id[generated]["path"] == '/no/"such"/page'
    assert by_id[generated]["status"] == 404
    assert all(r["request_id"] for r in access)


async def _scrape(client: TestClient[Any, Any], **headers: str) -> tuple[int, str]:
    response = await client.get("/metrics", headers=headers)
    return response.status, await response.text()


async def test_metrics_count_sockets_events_requests_and_queries(
    client: TestClient[Any, Any], world: World
) -> None:
    status, before_text = await _scrape(client)
    assert status == 200
    before = _samples(before_text)
    async with connected(client, world, "student_a") as sock:
        for _ in range(3):
            assert (await sock.call("fair.join", {"fair": "campus"}))["ok"]
        refused = await sock.call("booth.join", {"booth_id": 2**40})
        assert not refused["ok"]
        status, text = await _scrape(client)
    after = _samples(text)
    assert _value(after, "fairserver_sockets_connected") == 1
    assert _value(after, "fairserver_socket_rooms") >= 2  # the user's room and the fair's
    ok = {"event": "fair.join", "outcome": "ok"}
    assert (
        _value(after, "fairserver_socket_events_total", **ok)
        - _value(before, "fairserver_socket_events_total", **ok)
        == 3
    )
    refusal = {"event": "booth.join", "outcome": "error"}
    assert (
        _value(after, "fairserver_socket_events_total", **refusal)
        - _value(before, "fairserver_socket_events_total", **refusal)
        == 1
    )
    acks = "fairserver_socket_ack_seconds_count"
    assert _value(after, acks, event="fair.join") - _value(before, acks, event="fair.join") == 3
    queries = "fairserver_db_query_seconds_count"
    assert _value(after, queries, statement="select") > _value(before, queries, statement="select")
    assert _value(after, "fairserver_http_requests_total", method="GET", status="200") > 0
    assert "fairserver_fanout_queue_depth_max" in text
    assert "fairserver_media_viewers" in text
    # After the socket has gone, the gauge says so at the next scrape.
    await asyncio.sleep(0.2)
    _, text = await _scrape(client)
    assert _value(_samples(text), "fairserver_sockets_connected") == 0


async def test_metrics_are_refused_off_this_machine_unless_the_token_is_shown(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        tmp_path, trusted_proxies=("127.0.0.1/32",), metrics_token="scrape-token-0123456789"
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        await build_world(client.app[DB], client.app)
        remote = {"X-Forwarded-For": "203.0.113.9"}  # a visitor, through the trusted proxy
        assert (await _scrape(client, **remote))[0] == 404
        wrong = {**remote, "Authorization": "Bearer scrape-token-wrong-000000"}
        assert (await _scrape(client, **wrong))[0] == 404
        right = {**remote, "Authorization": "Bearer scrape-token-0123456789"}
        status, text = await _scrape(client, **right)
        assert status == 200 and "fairserver_sockets_connected" in text
        assert (await _scrape(client))[0] == 200  # loopback itself


def _frame(size: int) -> EncodedFrame:
    return EncodedFrame(packet=av.Packet(bytes(size)), keyframe=True, ssrc=7)


async def test_media_gauges_count_viewers_and_bitrates() -> None:
    receiver: Any = object()  # only its presence matters: a published, not derived, source
    video = Source(
        source_id="p/video/1", publisher="p", kind="video", receiver=receiver, keyframe_interval=1
    )
    for viewer in ("a", "b", "c"):
        video.viewers.add(ViewerTrack(video, viewer, 10))
    sampler = metrics.MediaSampler()
    sampler.sample([video])
    assert metrics.MEDIA_VIEWERS.labels("video")._value.get() == 3
    assert metrics.MEDIA_SOURCES.labels("video")._value.get() == 1
    for _ in range(10):
        video.on_frame(_frame(1000))
    await asyncio.sleep(0.5)
    sampler.sample([video])
    ingest = metrics.MEDIA_IN_BPS.labels("video")._value.get()
    # 80,000 bits over at least the half second slept (and not much more on a slow machine).
    assert 20_000 < ingest <= 160_000
    assert metrics.MEDIA_OUT_BPS.labels("video")._value.get() == ingest * 3


def test_statement_labels_stay_bounded() -> None:
    assert metrics.statement_kind("  SELECT 1") == "select"
    assert metrics.statement_kind("WITH x AS (SELECT 1) SELECT * FROM x") == "with"
    assert metrics.statement_kind("PRAGMA synchronous") == "other"
    assert metrics.statement_kind("") == "other"


def test_ops_settings_are_validated() -> None:
    assert Settings.from_env({"FAIRSERVER_LOG_LEVEL": "debug"}).log_level == "DEBUG"
    with pytest.raises(SettingsError, match="FAIRSERVER_LOG_LEVEL"):
        Settings.from_env({"FAIRSERVER_LOG_LEVEL": "LOUD"})
    token = Settings.from_env({"FAIRSERVER_METRICS_TOKEN": "t" * 16}).metrics_token
    assert token == "t" * 16
    assert Settings.from_env({"FAIRSERVER_METRICS_TOKEN": ""}).metrics_token is None
    with pytest.raises(SettingsError, match="FAIRSERVER_METRICS_TOKEN"):
        Settings.from_env({"FAIRSERVER_METRICS_TOKEN": "short"})
