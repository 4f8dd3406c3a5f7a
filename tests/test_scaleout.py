"""Scale-out with real processes: two `fairserver serve` processes, one PostgreSQL, one Redis.

Each test starts its own throwaway redis-server (so it can kill and restart it) and its
own server processes; their logs are printed on teardown, which pytest shows on failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from fairserver.socket.redis_manager import RETRY_SLEEP, ResilientRedisManager
from fairserver.store.db import Database
from tests.factories import World, build_world
from tests.servers import ServerProcess, free_port, start_server
from tests.sockets import CONNECT_WAIT, Client, session_cookie

REDIS_SERVER_ENV = "FAIRSERVER_TEST_REDIS_SERVER"
RECOVERY_BOUND = 5.0  # seconds from Redis answering again to cross-process delivery


@dataclass
class RedisServer:
    """A redis-server of this test's own, restartable on the same port."""

    binary: str
    config: Path
    port: int
    password: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start:\n{self.log()}")
            time.sleep(0.05)

    def answers(self) -> bool:
        client = redis.Redis(
            host="127.0.0.1", port=self.port, password=self.password, socket_timeout=1
        )
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: no goodbye to the clients, like a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    binary = os.environ.get(REDIS_SERVER_ENV)
    if not binary:
        pytest.fail(f"{REDIS_SERVER_ENV} is not set: run the suite through `make test`")
    port = free_port()
    password = uuid.uuid4().hex
    directory = tmp_path / "redis"
    directory.mkdir()
    config = directory / "redis.conf"
    config.write_text(
        "\n".join(
            [
                "bind 127.0.0.1",
                f"port {port}",
                f"requirepass {password}",
                'save ""',
                "appendonly no",
                f"dir {directory}",
                f"logfile {directory / 'redis.log'}",
                "",
            ]
        )
    )
    config.chmod(0o600)
    server = RedisServer(binary, config, port, password, directory / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@dataclass
class Cluster:
    first: ServerProcess
    second: ServerProcess
    world: World


@pytest.fixture
async def cluster(tmp_path: Path, pg_url: str, redis_server: RedisServer) -> AsyncIterator[Cluster]:
    env = {"FAIRSERVER_DATABASE_URL": pg_url, "FAIRSERVER_REDIS_URL": redis_server.url}
    servers: list[ServerProcess] = []
    try:
        # The first process migrates the fresh database; the second finds it migrated.
        servers.append(await asyncio.to_thread(start_server, tmp_path, env))
        servers.append(await asyncio.to_thread(start_server, tmp_path, env))
        db = Database(pg_url)
        try:
            world = await build_world(db)
        finally:
            await db.dispose()
        yield Cluster(servers[0], servers[1], world)
    finally:
        for server in servers:
            await asyncio.to_thread(server.stop, 30)
            print(f"--- log of {server.url} (exit {server.process.returncode}) ---")
            print(server.log())
        print(f"--- redis log ---\n{redis_server.log()}")


@asynccontextmanager
async def socket_on(server: ServerProcess, world: World, who: str) -> AsyncIterator[Client]:
    """A socket.io client for `who`, logged in (over HTTP) on `server`."""
    cookie = await session_cookie(server.url, world, who)
    sock = Client()
    try:
        await sock.sio.connect(
            server.url,
            headers={"Cookie": cookie},
            transports=["websocket"],
            wait_timeout=CONNECT_WAIT,
        )
        yield sock
    finally:
        await sock.sio.disconnect()
        await sock.http.close()


async def join(sock: Client, fair: str) -> dict[str, Any]:
    reply = await sock.call("fair.join", {"fair": fair})
    assert reply["ok"], reply
    data: dict[str, Any] = reply["data"]
    return data


async def test_announcement_on_one_process_reaches_a_student_on_the_other(
    cluster: Cluster,
) -> None:
    async with (
        socket_on(cluster.first, cluster.world, "organiser_a") as organiser,
        socket_on(cluster.second, cluster.world, "student_a") as student,
    ):
        await join(organiser, "campus")
        await join(student, "campus")
        reply = await organiser.call(
            "fair.announce", {"body": "Booth 3 opens at ten", "client_id": "a-1"}
        )
        assert reply["ok"], reply
        heard = await student.wait_for(
            "fair.announcement", lambda event: event["body"] == "Booth 3 opens at ten"
        )
        assert heard["seq"] == reply["data"]["seq"]


async def test_presence_counts_agree_across_processes(cluster: Cluster) -> None:
    async with (
        socket_on(cluster.first, cluster.world, "organiser_a") as organiser,
        socket_on(cluster.second, cluster.world, "student_a") as student,
        socket_on(cluster.second, cluster.world, "recruiter_a") as recruiter,
    ):
        assert (await join(organiser, "campus"))["online"] == 1
        assert (await join(student, "campus"))["online"] == 2, "counts the other process's user"
        # Staff hear the count from the process where the student joined.
        await organiser.wait_for("fair.online", lambda event: event["online"] == 2)
        assert (await join(recruiter, "campus"))["online"] == 3
        await organiser.wait_for("fair.online", lambda event: event["online"] == 3)
        assert (await student.call("fair.leave"))["ok"]
        await organiser.wait_for("fair.online", lambda event: event["online"] == 2)
        # A fresh look from the first process agrees with the second's.
        assert (await organiser.call("fair.leave"))["ok"]
        assert (await join(organiser, "campus"))["online"] == 2


async def test_delivery_resumes_soon_after_redis_restarts(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    world = cluster.world
    async with (
        socket_on(cluster.first, world, "organiser_a") as organiser_a,
        socket_on(cluster.first, world, "admin") as admin,
        socket_on(cluster.first, world, "organiser_b") as organiser_b,
        socket_on(cluster.second, world, "student_a") as student_a,
        socket_on(cluster.second, world, "student_b") as student_b,
    ):
        for sock, fair in [
            (organiser_a, "campus"),
            (admin, "campus"),
            (organiser_b, "open"),
            (student_a, "campus"),
            (student_b, "open"),
        ]:
            await join(sock, fair)
        await organiser_a.call("fair.announce", {"body": "before", "client_id": "before"})
        await student_a.wait_for("fair.announcement", lambda e: e["body"] == "before")

        await asyncio.to_thread(redis_server.kill)
        await asyncio.sleep(1.5)  # long enough for both processes to notice the loss
        await asyncio.to_thread(redis_server.start)
        back = time.monotonic()

        # Three announcers (the rate limit is per user: burst 3, then one per 5 s each).
        announcers = [(organiser_a, "campus"), (organiser_b, "open"), (admin, "campus")]
        recovered = await keep_announcing_until_heard(announcers, [student_a, student_b], back)
        print(f"cross-process delivery resumed {recovered:.2f}s after redis answered again")
        assert recovered <= RECOVERY_BOUND


async def keep_announcing_until_heard(
    announcers: list[tuple[Client, str]], listeners: list[Client], back: float
) -> float:
    """Announces round-robin from the first process; returns the seconds from `back`
    until a listener on the second process hears one of these announcements."""
    heard = asyncio.Event()
    heard_at: list[float] = []

    async def mark(data: Any = None) -> None:
        if isinstance(data, dict) and str(data.get("body", "")).startswith("after-"):
            heard_at.append(time.monotonic())
            heard.set()

    for listener in listeners:
        listener.sio.on("fair.announcement", mark)
    deadline = back + RECOVERY_BOUND + 5  # bounded: report the failure, do not hang
    n = 0
    while not heard.is_set() and time.monotonic() < deadline:
        sock, _ = announcers[n % len(announcers)]
        n += 1
        body = f"after-{n}"
        try:
            await sock.call("fair.announce", {"body": body, "client_id": body}, timeout=1)
        except TimeoutError:
            pass  # the first process may itself still be reconnecting: keep going
        try:
            await asyncio.wait_for(heard.wait(), 0.25)
        except TimeoutError:
            pass
    assert heard_at, f"no announcement crossed processes within {deadline - back:.0f}s"
    return heard_at[0] - back


async def test_serve_with_workers_needs_redis(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FAIRSERVER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "FAIRSERVER_REDIS_URL": "",
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "fairserver.cli", "serve", "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "FAIRSERVER_REDIS_URL" in result.stderr


async def test_redis_manager_resubscribes_and_publishes_right_after_a_restart(
    redis_server: RedisServer,
) -> None:
    """The manager alone: stock python-socketio drops the first emit after a restart
    and backs off up to 60 s; ours publishes at once and listens again within ~1 s."""
    manager = ResilientRedisManager(redis_server.url, channel=f"test-{uuid.uuid4().hex}")
    received: asyncio.Queue[Any] = asyncio.Queue()

    async def listen() -> None:
        async for message in manager._redis_listen_with_retries():
            await received.put(message["data"])

    listener = asyncio.create_task(listen())
    try:
        await eventually_heard(manager, received, "before")
        await asyncio.to_thread(redis_server.kill)
        await asyncio.sleep(1.5)
        await asyncio.to_thread(redis_server.start)
        back = time.monotonic()
        # The first publish after the restart goes out (a dropped emit returns None).
        assert await manager._publish({"probe": "first"}) is not None
        await eventually_heard(manager, received, "after")
        elapsed = time.monotonic() - back
        print(f"manager listening again {elapsed:.2f}s after redis answered")
        assert elapsed <= 2 * RETRY_SLEEP + 1
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await manager.redis.aclose()


async def eventually_heard(
    manager: ResilientRedisManager, received: asyncio.Queue[Any], tag: str
) -> None:
    """Publishes `tag` every 0.1 s until the listener hears it back (bounded: 10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        await manager._publish({"tag": tag})
        try:
            while True:
                data = await asyncio.wait_for(received.get(), 0.1)
                if json.loads(data).get("tag") == tag:
                    return
        except TimeoutError:
            continue
    pytest.fail(f"the manager did not hear {tag!r} within 10 s")


@dataclass
class Supervised:
    """`fairserver serve --workers 2` as a real process tree."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def workers(self) -> list[int]:
        return [pid for pid in _running_pids() if _parent_of(pid) == self.process.pid]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _running_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_running(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields after "(comm)": state, ppid, ...


def _is_running(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has exited


def _parent_of(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def _wait_until(check: Any, timeout: float, what: str, log: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout:.0f}s\n{log}")
        time.sleep(0.1)


@pytest.fixture
def supervised(tmp_path: Path, pg_url: str, redis_server: RedisServer) -> Iterator[Supervised]:
    port = free_port()
    env = {
        **os.environ,
        "FAIRSERVER_PORT": str(port),
        "FAIRSERVER_DATABASE_URL": pg_url,
        "FAIRSERVER_REDIS_URL": redis_server.url,
        "FAIRSERVER_ARGON2_TIME_COST": "1",
        "FAIRSERVER_ARGON2_MEMORY_KIB": "1024",
    }
    log_path = tmp_path / "supervisor.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "fairserver.cli", "serve", "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    tree = Supervised(process, f"http://127.0.0.1:{port}", log_path)
    workers: list[int] = []
    try:
        _wait_until(lambda: len(tree.workers()) == 2, 30, "two workers did not start", tree.log())
        workers = tree.workers()
        _wait_until(lambda: _healthy(tree.url), 60, "the workers did not answer", tree.log())
        yield tree
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for pid in workers:  # only the workers this supervisor started
            if _is_running(pid) and _parent_of(pid) in (process.pid, 1):
                os.kill(pid, signal.SIGKILL)
        print(f"--- supervisor log ---\n{tree.log()}")


def _healthy(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def test_workers_share_the_port_and_stop_on_sigterm(supervised: Supervised) -> None:
    workers = supervised.workers()
    assert len(workers) == 2
    # Many short connections: the kernel spreads them over both listening workers.
    assert all(_healthy(supervised.url) for _ in range(20))
    supervised.process.send_signal(signal.SIGTERM)
    assert supervised.process.wait(timeout=40) == 0, supervised.log()
    _wait_until(
        lambda: not any(_is_running(pid) for pid in workers), 10, "workers outlived SIGTERM"
    )


def test_workers_stop_when_their_supervisor_is_killed(supervised: Supervised) -> None:
    workers = supervised.workers()
    supervised.process.kill()
    supervised.process.wait(timeout=10)
    _wait_until(
        lambda: not any(_is_running(pid) for pid in workers),
        60,  # a graceful stop on a loaded 2-core machine can take a while
        "workers outlived their supervisor",
        supervised.log(),
    )


def test_a_crashed_worker_is_replaced_while_the_other_serves(supervised: Supervised) -> None:
    workers = supervised.workers()
    os.kill(workers[0], signal.SIGKILL)
    _wait_until(
        lambda: len(supervised.workers()) == 2 and workers[0] not in supervised.workers(),
        30,
        "no worker took the crashed one's place",
        supervised.log(),
    )
    assert workers[1] in supervised.workers()  # the other one was left alone
    assert supervised.process.poll() is None
    _wait_until(lambda: all(_healthy(supervised.url) for _ in range(10)), 60, "not serving")
    supervised.process.send_signal(signal.SIGTERM)
    assert supervised.process.wait(timeout=40) == 0, supervised.log()


def _metric(url: str, name: str, labels: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:  # noqa: S310
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and labels in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_add_up_every_workers_figures(supervised: Supervised) -> None:
    """Each new connection lands on either worker; every scrape, whichever worker answers
    it, counts all the requests (one worker's own share would be about half)."""
    name, labels = "fairserver_http_requests_total", 'method="GET",status="200"'
    before = max(_metric(supervised.url, name, labels) for _ in range(4))
    assert all(_healthy(supervised.url) for _ in range(40))
    counts = [_metric(supervised.url, name, labels) - before for _ in range(10)]
    # Scrapes are GET 200s too; each sees the 40 requests and the scrapes before it.
    assert all(count >= 40 for count in counts), counts


async def _at_booth(sock: Client, booth_id: int) -> dict[str, Any]:
    await join(sock, "open")
    reply = await sock.call("booth.join", {"booth_id": booth_id})
    assert reply["ok"], reply
    data: dict[str, Any] = reply["data"]
    return data


async def _queue(sock: Client, event: str, booth_id: int) -> dict[str, Any]:
    reply = await sock.call(event, {"booth_id": booth_id})
    assert reply["ok"], reply
    data: dict[str, Any] = reply["data"]
    return data


def _order(queue_list: dict[str, Any]) -> list[tuple[int, int | None]]:
    return [(entry["student_id"], entry["position"]) for entry in queue_list["entries"]]


async def test_queue_positions_agree_across_processes(cluster: Cluster) -> None:
    world = cluster.world
    booth = world.booth_a_open
    alice, bob = world.users["student_a"], world.users["student_b"]
    async with (
        socket_on(cluster.second, world, "recruiter_a") as staff,
        socket_on(cluster.first, world, "student_a") as student_a,
        socket_on(cluster.second, world, "student_b") as student_b,
    ):
        assert (await _at_booth(staff, booth))["queue_list"]["length"] == 0
        await _at_booth(student_a, booth)
        await _at_booth(student_b, booth)

        first = await _queue(student_a, "booth.queue_join", booth)  # on process 1
        assert (first["state"], first["position"], first["length"]) == ("waiting", 1, 1)
        second = await _queue(student_b, "booth.queue_join", booth)  # on process 2
        assert (second["state"], second["position"], second["length"]) == ("waiting", 2, 2)
        # Process 1's student hears the new length from process 2, still first in line.
        heard = await student_a.wait_for("booth.queue_position", lambda e: e["length"] == 2)
        assert (heard["booth_id"], heard["position"]) == (booth, 1)

        # The staff on process 2 saw process 1's join, in join order.
        listed = await staff.wait_for("booth.queue_list", lambda e: e["length"] == 2)
        assert _order(listed) == [(alice, 1), (bob, 2)]
        await staff.wait_for("booth.queue", lambda e: e["length"] == 2)
        # A fresh look from process 1 agrees with what process 2 broadcast.
        async with socket_on(cluster.first, world, "recruiter_a") as other_tab:
            assert _order((await _at_booth(other_tab, booth))["queue_list"]) == _order(listed)

        left = await _queue(student_a, "booth.queue_leave", booth)  # on process 1
        assert left["state"] == "none"
        moved = await student_b.wait_for(
            "booth.queue_position", lambda e: e["position"] == 1 and e["length"] == 1
        )
        assert moved["entry_id"] == second["entry_id"]
        ended = await staff.wait_for("booth.queue_ended", lambda e: e["student_id"] == alice)
        assert ended["outcome"] == "left"
        # (An earlier list also had length 1: the one from before Bob joined.)
        await staff.wait_for("booth.queue_list", lambda e: _order(e) == [(bob, 1)])
        # Asking again on process 2 keeps the place, now first.
        again = await _queue(student_b, "booth.queue_join", booth)
        assert (again["entry_id"], again["position"], again["length"]) == (
            second["entry_id"],
            1,
            1,
        )
