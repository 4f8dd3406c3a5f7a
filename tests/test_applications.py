"""Job applications (B2): the service on SQLite and PostgreSQL with a recording notifier,
and the job page and the company's applications page over HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from fairserver.auth import Actor
from fairserver.keys import DB
from fairserver.rooms.booths import applications
from fairserver.rooms.booths.access import access_company_job
from fairserver.rooms.booths.applications import JobRef
from fairserver.rooms.errors import NotFound, Refused
from fairserver.rooms.notify import RecordingNotifier, user_room
from fairserver.rooms.wiring import build_services
from fairserver.store import tables as t
from fairserver.store.db import Database
from fairserver.store.live import MemoryLive
from tests.clock import FakeTime
from tests.factories import World, build_world
from tests.interview_helpers import add_colleagues
from tests.test_routes import _job


class Setup:
    def __init__(self, db: Database, world: World, job_id: int) -> None:
        self.db, self.world, self.job_id = db, world, job_id
        self.notifier = RecordingNotifier()
        self.time = FakeTime()
        self.services = build_services(
            db=db,
            live=MemoryLive(clock=self.time.monotonic),
            notifier=self.notifier,
            worker_id="w1",
            clock=self.time.wall,
        )
        self.job = JobRef(id=job_id, fair_id=world.campus_fair, company_id=world.company_a)

    def actor(self, who: str) -> Actor:
        role = who.split("_")[0]
        company = self.world.company_b if who == "recruiter_b" else self.world.company_a
        return Actor(
            user_id=self.world.users[who],
            role=role,
            display_name=who,
            company_id=company if role == "recruiter" else None,
        )

    async def set_resume(self, text: str) -> None:
        async with self.db.begin() as conn:
            await conn.execute(
                t.student_profiles.update()
                .where(t.student_profiles.c.user_id == self.world.users["student_a"])
                .values(resume=text)
            )


@pytest.fixture
async def setup(db: Database) -> Setup:
    world = await build_world(db)
    async with db.connect() as conn:
        job_id = (
            await conn.execute(
                sa.select(sa.func.min(t.jobs.c.id)).where(t.jobs.c.booth_id == world.booth_a_campus)
            )
        ).scalar_one()
    return Setup(db, world, int(job_id))


async def test_an_application_keeps_the_resume_as_it_was_sent(setup: Setup) -> None:
    s = setup
    await s.set_resume("Welding certificate, 2025")
    row = await applications.apply(s.services, s.actor("student_a"), s.job, "Hello")
    assert (row.state, row.message, row.resume) == ("applied", "Hello", "Welding certificate, 2025")
    await s.set_resume("Rewritten later")
    job = await access_company_job(s.services, s.actor("recruiter_a"), s.job_id)
    listed = (await applications.applications(s.services, job)).applications
    assert [
        (a.real_name, a.school, a.major, a.graduation_year, a.message, a.resume) for a in listed
    ] == [("Student A", "School A", "Petrochemistry", 2027, "Hello", "Welding certificate, 2025")]
    assert s.notifier.sent == []  # applying tells nobody


async def test_applying_twice_at_once_stores_one_application(setup: Setup) -> None:
    s = setup
    rows = await asyncio.gather(
        *(applications.apply(s.services, s.actor("student_a"), s.job, f"m{n}") for n in range(4))
    )
    assert len({r.id for r in rows}) == 1
    async with s.db.connect() as conn:
        count = (
            await conn.execute(sa.select(sa.func.count()).select_from(t.job_applications))
        ).scalar()
    assert count == 1


async def test_withdrawing_and_applying_again_reopens_the_application(setup: Setup) -> None:
    s = setup
    first = await applications.apply(s.services, s.actor("student_a"), s.job, "first")
    assert await applications.withdraw(s.services, s.actor("student_a"), s.job_id)
    assert not await applications.withdraw(s.services, s.actor("student_a"), s.job_id)
    job = await access_company_job(s.services, s.actor("recruiter_a"), s.job_id)
    assert (await applications.applications(s.services, job)).applications == []
    s.time.advance(3600)
    again = await applications.apply(s.services, s.actor("student_a"), s.job, "second")
    assert (again.id, again.state, again.message) == (first.id, "applied", "second")
    assert again.created_at > first.created_at


async def test_a_student_without_a_profile_cannot_apply(setup: Setup) -> None:
    s = setup
    async with s.db.begin() as conn:
        await conn.execute(
            t.student_profiles.delete().where(
                t.student_profiles.c.user_id == s.world.users["student_a"]
            )
        )
    with pytest.raises(Refused) as refused:
        await applications.apply(s.services, s.actor("student_a"), s.job, "")
    assert refused.value.code == "application.no_profile"


async def test_an_invitation_goes_to_the_applicant_once(setup: Setup) -> None:
    s = setup
    row = await applications.apply(s.services, s.actor("student_a"), s.job, "")
    job = await access_company_job(s.services, s.actor("recruiter_a"), s.job_id)
    invited = await asyncio.gather(
        *(applications.invite(s.services, s.actor("recruiter_a"), job, row.id) for _ in range(3))
    )
    assert {i.state for i in invited} == {"invited"}
    assert s.notifier.events() == [(user_room(s.world.users["student_a"]), "application.invited")]
    assert s.notifier.sent[0].data == {
        "application_id": row.id,
        "job_id": s.job_id,
        "job_title": job.title,
        "slots_url": f"/fairs/campus/booths/{s.world.booth_a_campus}/slots?job={s.job_id}",
    }
    async with s.db.connect() as conn:
        stored = (
            await conn.execute(
                sa.select(t.job_applications.c.invited_by, t.job_applications.c.state)
            )
        ).one()
    assert tuple(stored) == (s.world.users["recruiter_a"], "invited")
    # Another job's id with this application, or a withdrawn one: missing.
    other = await access_company_job(s.services, s.actor("recruiter_a"), s.job_id + 1)
    with pytest.raises(NotFound):
        await applications.invite(s.services, s.actor("recruiter_a"), other, row.id)
    await applications.withdraw(s.services, s.actor("student_a"), s.job_id)
    with pytest.raises(NotFound):
        await applications.invite(s.services, s.actor("recruiter_a"), job, row.id)
    assert len(s.notifier.sent) == 1


async def test_only_the_jobs_company_reads_its_applications(setup: Setup) -> None:
    s = setup
    assert (await access_company_job(s.services, s.actor("recruiter_a"), s.job_id)).id == s.job_id
    for who in ("recruiter_b", "student_a", "organiser_a", "admin"):
        with pytest.raises(NotFound):
            await access_company_job(s.services, s.actor(who), s.job_id)
    with pytest.raises(NotFound):
        await access_company_job(s.services, s.actor("recruiter_a"), 999999)


# --- over HTTP ---------------------------------------------------------------------------


async def _post(client: TestClient[Any, Any], path: str, token: str, **data: str) -> Any:
    return await client.post(path, data={"csrf_token": token, **data}, allow_redirects=False)


async def test_a_student_applies_from_the_job_page_and_the_company_invites(
    client: TestClient[Any, Any], world: World
) -> None:
    job_id = await _job(client, world)
    job_path = f"/fairs/campus/jobs/{job_id}"
    token = await world.login(client, "student_a")
    page = await (await client.get(job_path)).text()
    assert f'action="{job_path}/apply"' in page and "Applied on" not in page
    response = await _post(client, job_path + "/apply", token, message="<b>Pick me</b>")
    assert response.status == 303
    page = await (await client.get(job_path)).text()
    assert "Applied on" in page and "(Asia/Shanghai)" in page
    assert f'action="{job_path}/withdraw"' in page and "Invited to an interview" not in page
    again = await _post(client, job_path + "/apply", token, message="twice")
    assert again.status == 303  # applied already: nothing changes

    applications_path = f"/company/jobs/{job_id}/applications"
    for outsider in ("recruiter_b", "student_a", "admin"):
        await world.login(client, outsider)
        missing = await client.get("/company/jobs/999999/applications")
        response = await client.get(applications_path)
        assert response.status == missing.status == 404, outsider
        # The same page (it names its own address, in the language form).
        assert (await response.text()).replace(applications_path, "P") == (
            await missing.text()
        ).replace("/company/jobs/999999/applications", "P")

    token = await world.login(client, "recruiter_a")
    edit = await (await client.get(f"/fairs/campus/booths/{world.booth_a_campus}/edit")).text()
    assert f'href="{applications_path}"' in edit
    page = await (await client.get(applications_path)).text()
    assert "Student A" in page and "Petrochemistry" in page and "School A" in page
    assert "&lt;b&gt;Pick me&lt;/b&gt;" in page and "<b>Pick me" not in page
    async with client.app[DB].connect() as conn:
        application_id = (await conn.execute(sa.select(t.job_applications.c.id))).scalar_one()
    invite = f"{applications_path}/{application_id}/invite"
    assert f'action="{invite}"' in page
    response = await _post(client, invite, token)
    assert response.status == 303
    page = await (await client.get(applications_path)).text()
    assert "Invited to book a slot" in page and f'action="{invite}"' not in page

    assert (await _post(client, invite, await world.login(client, "recruiter_b"))).status == 404

    await world.login(client, "student_a")
    page = await (await client.get(job_path)).text()
    assert "Invited to an interview" in page
    assert f'href="/fairs/campus/booths/{world.booth_a_campus}/slots?job={job_id}"' in page


async def test_a_message_too_long_is_refused_beside_the_field(
    client: TestClient[Any, Any], world: World
) -> None:
    job_id = await _job(client, world)
    token = await world.login(client, "student_a")
    response = await _post(client, f"/fairs/campus/jobs/{job_id}/apply", token, message="x" * 1001)
    assert response.status == 400
    assert 'id="message-error"' in await response.text()
    async with client.app[DB].connect() as conn:
        count = (
            await conn.execute(sa.select(sa.func.count()).select_from(t.job_applications))
        ).scalar()
    assert count == 0


async def test_a_student_who_may_not_join_the_fair_cannot_apply(
    client: TestClient[Any, Any], world: World
) -> None:
    job_id = await _job(client, world)
    [colleague] = await add_colleagues(client, world, 1)
    for who in ("student_b", "recruiter_a", colleague):
        token = await world.login(client, who)
        response = await _post(client, f"/fairs/campus/jobs/{job_id}/apply", token)
        assert response.status == 404, who
