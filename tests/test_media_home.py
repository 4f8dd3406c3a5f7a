"""Media homes on a real Redis: two workers' MediaHomes in one process, each with its own
Redis connection, route calls for one room to the worker that holds it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest

from fairserver.rooms.context import Services
from fairserver.rooms.errors import ServiceError
from fairserver.rooms.media.homes import HomeCommand, MediaHomes, Seated
from fairserver.rooms.wiring import build_services
from fairserver.store.live_redis import RedisLive
from tests.test_live_contract import eventually, redis_url


class Publish(HomeCommand):
    call: ClassVar[str] = "stage.publish"
    room: str
    sdp: str


class Leave(HomeCommand):
    call: ClassVar[str] = "stage.leave"
    connection_id: str | None = None


class Refuse(HomeCommand):
    call: ClassVar[str] = "stage.refuse"


class Nothing(HomeCommand):
    """Registered on no worker."""

    call: ClassVar[str] = "stage.nothing"


class Worker:
    def __init__(self, name: str, live: RedisLive) -> None:
        services = build_services(db=None, live=live, notifier=None, worker_id=name)  # type: ignore[arg-type]
        self.homes = MediaHomes(services, call_timeout=1.0, renew_every=0.2)
        self.ran: list[tuple[str, dict[str, Any]]] = []
        self.rooms: set[str] = set()
        self.seated_checks: list[Seated] = []
        self.homes.track("stage", lambda room: room in self.rooms)
        self.homes.register(Publish, self._handle)
        self.homes.register(Leave, self._handle)

        async def refuse(services: Services, command: Refuse, seated: Seated) -> Any:
            raise ServiceError("media.full", "four presenters are already live", limit=4)

        self.homes.register(Refuse, refuse)

    async def _handle(self, services: Services, command: HomeCommand, seated: Seated) -> Any:
        self.ran.append((command.call, command.model_dump(exclude_none=True)))
        self.seated_checks.append(seated)
        if isinstance(command, Publish):
            self.rooms.add(command.room)
        return {"answered_by": services.worker_id}


@pytest.fixture
async def workers() -> AsyncIterator[tuple[Worker, Worker]]:
    prefix = f"fs:test:{uuid.uuid4().hex}:"
    lives = [await RedisLive.connect(redis_url(), prefix=prefix) for _ in range(2)]
    pair = (Worker("w-a", lives[0]), Worker("w-b", lives[1]))
    for worker in pair:
        await worker.homes.start()
    try:
        yield pair
    finally:
        for worker in pair:
            await worker.homes.stop()
            await worker.homes.services.tasks.stop()
        await lives[0]._forget_everything()
        for live in lives:
            await live.close()


def publish(room: str) -> Publish:
    return Publish(room=room, sdp="v=0")


async def test_calls_run_on_the_home_whichever_worker_takes_them(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    assert await a.homes.call("stage:1", publish("stage:1"), seated=lambda: True) == {
        "answered_by": "w-a"
    }
    # w-b's socket signals for the same room: it runs on w-a, the home.
    reply = await b.homes.call("stage:1", publish("stage:1"), seated=lambda: True)
    assert reply == {"answered_by": "w-a"}
    assert [name for name, _ in a.ran] == ["stage.publish", "stage.publish"] and b.ran == []
    # Another room is homed wherever it is first used.
    assert await b.homes.call("stage:2", publish("stage:2"), seated=lambda: True) == {
        "answered_by": "w-b"
    }
    # A state query for a room nobody holds claims nothing.
    assert await a.homes.call("stage:3", Leave(), seated=lambda: True, claim=False)
    assert "stage:3" not in a.homes.held


async def test_refusals_cross_workers_with_their_code_and_details(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    await a.homes.call("stage:1", publish("stage:1"), seated=lambda: True)
    with pytest.raises(ServiceError) as refused:
        await b.homes.call("stage:1", Refuse(), seated=lambda: True)
    assert (refused.value.code, refused.value.details) == ("media.full", {"limit": 4})
    with pytest.raises(ServiceError, match="unknown media call"):
        await b.homes.call("stage:1", Nothing(), seated=lambda: True)


async def test_a_remote_caller_losing_its_seat_closes_its_peers_on_the_home(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    await a.homes.call("stage:1", publish("stage:1"), seated=lambda: True)
    seated = {"sid-1": True, "sid-2": True}
    for sid in seated:
        await b.homes.call(
            "stage:1",
            publish("stage:1"),
            seated=lambda sid=sid: seated[sid],  # type: ignore[misc]
            connection_id=sid,
            leave=Leave(connection_id=sid),
        )
    # On the home the remote caller's seat always holds: its own worker watches it.
    assert all(check() for check in a.seated_checks)

    seated["sid-1"] = False  # left the briefing, or was banned: the event says so
    await b.homes.forget("sid-1", "stage:1")
    await eventually(lambda: _ran(a, "stage.leave", "sid-1"), timeout=3)
    assert "sid-2" in b.homes.remote  # the other caller's peers stay
    await b.homes.forget("sid-2")  # disconnected
    await eventually(lambda: _ran(a, "stage.leave", "sid-2"), timeout=3)
    assert b.homes.remote == {}
    assert sum(1 for name, _ in a.ran if name == "stage.leave") == 2


async def _ran(worker: Worker, name: str, sid: str) -> bool:
    return (name, {"connection_id": sid}) in worker.ran


async def test_a_dead_home_is_taken_over(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    await a.homes.call("stage:1", publish("stage:1"), seated=lambda: True)
    for task in a.homes._tasks:  # w-a hangs: it holds the lease but answers nothing
        task.cancel()
    reply = await b.homes.call("stage:1", publish("stage:1"), seated=lambda: True)
    assert reply == {"answered_by": "w-b"}
    assert await b.homes.services.live.get("media-home:stage:1") == "w-b"


async def test_a_home_renews_its_lease_while_the_room_lives_and_then_lets_go(
    workers: tuple[Worker, Worker],
) -> None:
    a, _ = workers
    live = a.homes.services.live
    await a.homes.call("stage:1", publish("stage:1"), seated=lambda: True)
    await asyncio.sleep(0.5)
    assert await live.get("media-home:stage:1") == "w-a"
    a.rooms.clear()  # the last peer closed
    await eventually(lambda: _gone(live), timeout=3)
    assert "stage:1" not in a.homes.held


async def _gone(live: Any) -> bool:
    return await live.get("media-home:stage:1") is None


class Misshapen(HomeCommand):
    """Another worker's idea of stage.publish: the home validates it into its own model."""

    call: ClassVar[str] = "stage.publish"
    sdp: int


async def test_a_command_the_home_cannot_read_is_refused_and_runs_nothing(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    await a.homes.call("stage:1", publish("stage:1"), seated=lambda: True)
    with pytest.raises(ServiceError) as refused:
        await b.homes.call("stage:1", Misshapen(sdp=1), seated=lambda: True)
    assert refused.value.code == "media.bad_call"
    assert [name for name, _ in a.ran] == ["stage.publish"]
