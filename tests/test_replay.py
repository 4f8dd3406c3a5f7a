"""The replay page (P7): the Q&A timeline beside a briefing's recording, and who may fetch
a recording's file (briefings like their page; interviews only their company's
interviewers, and admins)."""

from __future__ import annotations

import html
import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.keys import DB, SETTINGS
from fairserver.rooms.briefings.replay import clock, timeline
from fairserver.store import recordings as store
from fairserver.store import tables as t
from fairserver.store.briefing_live import QuestionRow
from fairserver.store.recordings import NewRecording
from tests.factories import World
from tests.test_socket_briefing import make_briefing

START = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
WEBM = b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 4
NAMES = itertools.count(1)


async def add_recording(
    client: TestClient[Any, Any], world: World, kind: str, subject_id: int, **extra: Any
) -> int:
    name = f"{kind}-{subject_id}-{next(NAMES)}.webm"
    directory = client.app[SETTINGS].recordings_dir
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(WEBM)
    values = {
        "fair_id": world.open_fair,
        "kind": kind,
        "subject_id": subject_id,
        "started_by": world.users["recruiter_a"],
        "file_name": name,
        "state": "complete",
        "started_at": START,
        "ended_at": START + timedelta(minutes=30),
        "bytes": len(WEBM),
        **extra,
    }
    async with client.app[DB].begin() as conn:
        return await store.insert_recording(conn, NewRecording(**values))


async def add_question(
    client: TestClient[Any, Any], world: World, bid: int, who: str, body: str, **values: Any
) -> None:
    at = values.pop("at")
    async with client.app[DB].begin() as conn:
        await conn.execute(
            t.questions.insert().values(
                briefing_id=bid,
                author_id=world.users[who],
                client_id=body[:60],
                body=body,
                created_at=at,
                updated_at=at,
                **values,
            )
        )


def timeline_of(page: str) -> list[tuple[str, str, str]]:
    """(data-offset, clock, the rest of the entry's text) for each timeline entry."""
    found = re.findall(
        r'<li data-offset="([^"]+)">\s*<button[^>]*>\s*<time>([^<]+)</time>(.*?)</button>',
        page,
        re.S,
    )
    return [
        (o, c, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", r)).split())) for o, c, r in found
    ]


async def test_the_timeline_shows_public_questions_where_they_were_asked(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    at = lambda seconds: START + timedelta(seconds=seconds)  # noqa: E731
    await add_question(
        client, world, bid, "student_a", "Before it began?", state="approved", at=at(-60)
    )
    await add_question(
        client, world, bid, "student_b", "Is there housing?", state="answered", at=at(75)
    )
    await add_question(
        client,
        world,
        bid,
        "student_a",
        "Secret question",
        state="approved",
        anonymous=True,
        at=at(3725.4),
    )
    await add_question(client, world, bid, "student_b", "Pending one", state="pending", at=at(100))
    await add_question(client, world, bid, "student_b", "Rude one", state="dismissed", at=at(110))
    await add_question(
        client, world, bid, "student_a", "After the end", state="approved", at=at(4000)
    )
    recording = await add_recording(
        client, world, "briefing", bid, ended_at=START + timedelta(seconds=3800)
    )

    for who in ("student_b", "recruiter_a"):  # a student, and a moderator of the briefing
        await world.login(client, who)
        page = await (await client.get(f"/fairs/open/briefings/{bid}/replay")).text()
        assert f'src="/recordings/{recording}/file"' in page
        assert timeline_of(page) == [
            ("0.0", "0:00", "Before it began? student_a"),
            ("75.0", "1:15", "Is there housing? student_b · Answered"),
            ("3725.4", "1:02:05", "Secret question Anonymous"),
        ]
        # Never the anonymous asker's name, never pending or dismissed questions.
        assert "Pending one" not in page and "Rude one" not in page and "After the end" not in page


def test_timeline_and_clock_as_functions() -> None:
    row = QuestionRow(
        id=1,
        briefing_id=1,
        author_id=1,
        client_id="c",
        body="b",
        anonymous=True,
        state="approved",
        dismiss_reason="",
        pinned=False,
        votes=2,
        created_at=START + timedelta(seconds=61.26),
        updated_at=START,
        answered_at=None,
        author_name="Zhang San",
    )
    rows = [row]
    [entry] = timeline(rows, START, None)
    assert (entry.offset, entry.clock, entry.author) == (61.3, "1:01", None)
    assert clock(0) == "0:00" and clock(3600) == "1:00:00"


async def test_a_replay_page_lists_recordings_and_serves_ranges(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    await world.login(client, "student_b")
    empty = await client.get(f"/fairs/open/briefings/{bid}/replay")
    assert empty.status == 200 and "no recording yet" in await empty.text()
    first = await add_recording(client, world, "briefing", bid)
    second = await add_recording(
        client, world, "briefing", bid, started_at=START + timedelta(hours=1), ended_at=None
    )
    await add_recording(client, world, "briefing", bid, state="recording", ended_at=None)
    page = await (await client.get(f"/fairs/open/briefings/{bid}/replay")).text()
    assert f'src="/recordings/{second}/file"' in page  # the latest by default
    assert f'href="?recording={first}"' in page
    page = await (await client.get(f"/fairs/open/briefings/{bid}/replay?recording={first}")).text()
    assert f'src="/recordings/{first}/file"' in page
    briefing = await (await client.get(f"/fairs/open/briefings/{bid}")).text()
    assert f'href="/fairs/open/briefings/{bid}/replay"' in briefing

    whole = await client.get(f"/recordings/{first}/file")
    assert whole.status == 200 and await whole.read() == WEBM
    assert whole.headers["Content-Type"] == "video/webm"
    assert "private" in whole.headers["Cache-Control"]
    part = await client.get(f"/recordings/{first}/file", headers={"Range": "bytes=4-9"})
    assert part.status == 206 and await part.read() == WEBM[4:10]
    assert part.headers["Content-Range"] == f"bytes 4-9/{len(WEBM)}"


async def test_unfinished_missing_and_escaping_recordings_are_not_found(
    client: TestClient[Any, Any], world: World
) -> None:
    bid = await make_briefing(client, world)
    await world.login(client, "admin")
    running = await add_recording(client, world, "briefing", bid, state="recording", ended_at=None)
    escaping = await add_recording(client, world, "briefing", bid, file_name="../app.db")
    gone = await add_recording(client, world, "briefing", bid)
    async with client.app[DB].connect() as conn:
        row = await store.recording(conn, gone)
    assert row is not None
    (client.app[SETTINGS].recordings_dir / row.file_name).unlink()
    for recording_id in (running, escaping, gone, 999999, 2**31):
        assert (await client.get(f"/recordings/{recording_id}/file")).status == 404


async def interview(client: TestClient[Any, Any], world: World, interviewer: str) -> int:
    async with client.app[DB].begin() as conn:
        result = await conn.execute(
            t.interviews.insert()
            .values(
                fair_id=world.open_fair,
                company_id=world.company_a,
                student_id=world.users["student_a"],
                origin="queue",
                state="ended",
                created_at=START,
            )
            .returning(t.interviews.c.id)
        )
        interview_id = int(result.scalar_one())
        for who, role in ((interviewer, "interviewer"), ("student_a", "candidate")):
            await conn.execute(
                t.interview_participants.insert().values(
                    interview_id=interview_id, user_id=world.users[who], role=role
                )
            )
    return interview_id


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 404),
        ("student_a", 404),  # the candidate: recordings are the company's
        ("student_b", 404),
        ("recruiter_a", 200),  # company A's interviewer in it
        ("recruiter_b", 404),
        ("organiser_a", 404),
        ("organiser_b", 404),
        ("admin", 200),
    ],
)
async def test_an_interview_recording_is_for_its_interviewers_only(
    client: TestClient[Any, Any], world: World, who: str, status: int
) -> None:
    recording = await add_recording(
        client, world, "interview", await interview(client, world, "recruiter_a")
    )
    if who != "anonymous":
        await world.login(client, who)
    assert (await client.get(f"/recordings/{recording}/file")).status == status
    # A recruiter of the company who was not in this interview: nothing.
    async with client.app[DB].begin() as conn:
        await conn.execute(
            sa.delete(t.interview_participants).where(
                t.interview_participants.c.user_id == world.users["recruiter_a"]
            )
        )
    expected = 200 if who == "admin" else 404
    assert (await client.get(f"/recordings/{recording}/file")).status == expected
