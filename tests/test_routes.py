"""Every HTTP route, called as every role, gets an explicit, asserted decision.

The table below is the contract: a new route without a row fails
test_every_route_has_a_decision. A POST is sent with a valid CSRF token and no
other fields, so an allowed caller gets a validation answer (400) or a redirect,
and a refused one the same 404 as a missing object (anonymous callers are sent
to the log-in page where a page needs an account).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fairserver.clock import utcnow
from fairserver.keys import DB, SERVICES, SETTINGS
from fairserver.store import recordings as recording_store
from fairserver.store import tables as t
from fairserver.store.recordings import NewRecording
from tests.factories import CAMPUS_VIEWERS, ROLES, World
from tests.test_agreements import make_agreement

ALL = dict.fromkeys(ROLES, 200)


def only(
    allowed: set[str], ok: int = 200, anonymous: int = 404, other: int = 404
) -> dict[str, int]:
    return {
        role: ok if role in allowed else (anonymous if role == "anonymous" else other)
        for role in ROLES
    }


def campus(ok: int = 200) -> dict[str, int]:
    return only(CAMPUS_VIEWERS, ok)


LOGIN = 303  # anonymous callers of account pages are sent to /login
STAFF_A = {"recruiter_a", "admin"}  # who may edit company A's booth
ORGANISERS = {"organiser_a", "organiser_b", "admin"}
MANAGERS_A = {"organiser_a", "admin"}  # who manages school A's fair
SCHEDULERS_A = {"recruiter_a", "organiser_a", "admin"}
AGREEMENT_VIEWERS = {"student_a", "recruiter_a", "organiser_a", "admin"}

# (method, route pattern) -> role -> status. Paths use the campus fair of school A,
# whose only company is company A.
DECISIONS: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/"): ALL,
    ("GET", "/healthz"): ALL,
    # Decided by where the caller is, not who: the test client is on loopback (the refusal
    # of other addresses and the token are in tests/test_ops.py).
    ("GET", "/metrics"): ALL,
    ("GET", "/favicon.ico"): ALL,
    ("GET", "/login"): ALL,
    ("GET", "/register"): ALL,
    ("POST", "/login"): dict.fromkeys(ROLES, 400),
    ("POST", "/register"): dict.fromkeys(ROLES, 400),
    ("GET", "/profile"): only(set(ROLES) - {"anonymous"}, anonymous=LOGIN),
    # Only students have a profile form; others are sent back to the page.
    ("POST", "/profile"): {**dict.fromkeys(ROLES, 303), "student_a": 400, "student_b": 400},
    ("GET", "/fairs/{slug}"): campus(),
    ("GET", "/fairs/{slug}/agenda"): campus(),
    ("GET", "/fairs/{slug}/agenda.ics"): campus(),
    ("GET", "/fairs/{slug}/booths"): campus(),
    ("GET", "/fairs/{slug}/booths/{booth_id}"): campus(),
    # The test booth has no logo; logo access is covered in test_booths.
    ("GET", "/fairs/{slug}/booths/{booth_id}/logo"): dict.fromkeys(ROLES, 404),
    ("GET", "/fairs/{slug}/briefings/{id}"): campus(),
    ("GET", "/fairs/{slug}/briefings/{id}.ics"): campus(),
    ("GET", "/fairs/{slug}/jobs"): campus(),
    ("GET", "/api/fairs/{slug}/jobs"): campus(),
    ("GET", "/fairs/{slug}/jobs/{job_id}"): campus(),
    ("GET", "/fairs/{slug}/policy"): campus(),
    ("GET", "/fairs/{slug}/policy/{page}"): campus(),
    ("GET", "/fairs/{slug}/registration"): campus(),
    ("POST", "/fairs/{slug}/jobs/{job_id}/interest"): only({"student_a"}, ok=303),
    ("GET", "/fairs/{slug}/booths/{booth_id}/edit"): only(STAFF_A, anonymous=LOGIN),
    # Every booth field is optional: an empty form is a valid (clearing) edit.
    ("POST", "/fairs/{slug}/booths/{booth_id}/edit"): only(STAFF_A, ok=303, anonymous=LOGIN),
    ("GET", "/fairs/{slug}/booths/{booth_id}/jobs/new"): only(STAFF_A, anonymous=LOGIN),
    ("POST", "/fairs/{slug}/booths/{booth_id}/jobs/new"): only(STAFF_A, ok=400, anonymous=LOGIN),
    ("GET", "/fairs/{slug}/booths/{booth_id}/jobs/{job_id}/edit"): only(STAFF_A, anonymous=LOGIN),
    ("POST", "/fairs/{slug}/booths/{booth_id}/jobs/{job_id}/edit"): only(
        STAFF_A, ok=400, anonymous=LOGIN
    ),
    ("POST", "/fairs/{slug}/booths/{booth_id}/jobs/{job_id}/delete"): only(
        STAFF_A, ok=303, anonymous=LOGIN
    ),
    ("GET", "/fairs/{slug}/briefings/new"): only(SCHEDULERS_A),
    ("POST", "/fairs/{slug}/briefings/new"): only(SCHEDULERS_A, ok=400),
    ("GET", "/fairs/{slug}/briefings/{id}/edit"): only(SCHEDULERS_A),
    ("POST", "/fairs/{slug}/briefings/{id}/edit"): only(SCHEDULERS_A, ok=400),
    # The Q&A export names anonymous askers: the briefing's moderators only.
    ("GET", "/fairs/{slug}/briefings/{id}/questions.csv"): only(MANAGERS_A | {"recruiter_a"}),
    # A briefing's replay and its recording files: whoever may see the briefing page.
    ("GET", "/fairs/{slug}/briefings/{id}/replay"): campus(),
    ("GET", "/recordings/{recording_id}/file"): campus(),
    # An interview room: its participants only (student_a and recruiter_a); anyone else,
    # a colleague, an organiser or an admin included, gets the 404 of a missing one.
    ("GET", "/interviews/{interview_id}"): only({"student_a", "recruiter_a"}, anonymous=LOGIN),
    # Everyone signed in has a list of their own interviews (possibly empty).
    ("GET", "/interviews"): only(set(ROLES) - {"anonymous"}, anonymous=LOGIN),
    ("GET", "/organiser"): only(ORGANISERS, anonymous=LOGIN),
    ("GET", "/organiser/fairs/new"): only(ORGANISERS, anonymous=LOGIN),
    ("POST", "/organiser/fairs/new"): only(ORGANISERS, ok=400, anonymous=LOGIN),
    ("GET", "/organiser/roster"): only(ORGANISERS, anonymous=LOGIN),
    ("POST", "/organiser/roster"): only(ORGANISERS, ok=400, anonymous=LOGIN),
    ("GET", "/organiser/students"): only(ORGANISERS, anonymous=LOGIN),
    # Reports: staff only; which fairs and students each sees is in tests/test_report_pages.py.
    ("GET", "/organiser/reports"): only(ORGANISERS, anonymous=LOGIN),
    ("GET", "/organiser/reports.csv"): only(ORGANISERS, anonymous=LOGIN),
    ("GET", "/organiser/reports.xlsx"): only(ORGANISERS, anonymous=LOGIN),
    # student_a's path: their own school's organisers and admins only.
    ("GET", "/organiser/students/{user_id}"): only(MANAGERS_A, anonymous=LOGIN),
    ("GET", "/organiser/fairs/{slug}"): only(MANAGERS_A, anonymous=LOGIN),
    ("GET", "/organiser/fairs/{slug}/edit"): only(MANAGERS_A, anonymous=LOGIN),
    ("GET", "/organiser/fairs/{slug}/live"): only(MANAGERS_A, anonymous=LOGIN),
    ("POST", "/organiser/fairs/{slug}/edit"): only(MANAGERS_A, ok=400, anonymous=LOGIN),
    ("GET", "/organiser/fairs/{slug}/export/{kind}.csv"): only(MANAGERS_A, anonymous=LOGIN),
    ("POST", "/organiser/fairs/{slug}/companies/{company_id}"): only(
        MANAGERS_A, ok=400, anonymous=LOGIN
    ),
    ("POST", "/organiser/fairs/{slug}/invite"): only(MANAGERS_A, ok=400, anonymous=LOGIN),
    ("GET", "/company"): only({"recruiter_a", "recruiter_b"}, anonymous=LOGIN),
    # Company A already exhibits at the campus fair; company B cannot see it.
    ("GET", "/company/fairs/{slug}/apply"): only(set(), anonymous=LOGIN),
    ("POST", "/company/fairs/{slug}/apply"): only(set(), anonymous=LOGIN),
    ("POST", "/company/fairs/{slug}/respond"): only(set(), anonymous=LOGIN),
    # Intent agreements (I5): the agreement is student_a's with company A (school A). A
    # form posted empty is a 400 for whoever may post it; the shared interview has no
    # offer, so its panel's recruiter is told so (409).
    ("GET", "/interviews/{interview_id}/agreement"): only({"recruiter_a"}, ok=409, anonymous=LOGIN),
    ("POST", "/interviews/{interview_id}/agreement"): only(
        {"recruiter_a"}, ok=409, anonymous=LOGIN
    ),
    # Students see their own list; everyone else with a list is sent to it.
    ("GET", "/agreements"): {**dict.fromkeys(ROLES, LOGIN), "student_a": 200, "student_b": 200},
    ("GET", "/company/agreements"): only({"recruiter_a", "recruiter_b"}, anonymous=LOGIN),
    ("GET", "/organiser/agreements"): only(ORGANISERS, anonymous=LOGIN),
    ("GET", "/agreements/{agreement_id}"): only(AGREEMENT_VIEWERS, anonymous=LOGIN),
    ("GET", "/agreements/{agreement_id}/print"): only(AGREEMENT_VIEWERS, anonymous=LOGIN),
    ("POST", "/agreements/{agreement_id}/respond"): only({"student_a"}, ok=400, anonymous=LOGIN),
    ("POST", "/agreements/{agreement_id}/countersign"): only(
        {"organiser_a", "admin"}, ok=400, anonymous=LOGIN
    ),
    ("POST", "/agreements/{agreement_id}/change"): only({"recruiter_a"}, ok=400, anonymous=LOGIN),
    # Applications (B2): whoever may express interest applies (an empty message is fine;
    # student_a has applied already, which changes nothing) and withdraws; the job's
    # company reads them and invites. Scorecards, notes and outcomes (I4): the interview's
    # panel only (recruiter_a); a form posted empty is refused (400). Criteria: each
    # company's recruiters, for their own company.
    ("POST", "/fairs/{slug}/jobs/{job_id}/apply"): only({"student_a"}, ok=303),
    ("POST", "/fairs/{slug}/jobs/{job_id}/withdraw"): only({"student_a"}, ok=303),
    ("GET", "/company/jobs/{job_id}/applications"): only({"recruiter_a"}, anonymous=LOGIN),
    ("POST", "/company/jobs/{job_id}/applications/{application_id}/invite"): only(
        {"recruiter_a"}, ok=303, anonymous=LOGIN
    ),
    ("GET", "/company/criteria"): only({"recruiter_a", "recruiter_b"}, anonymous=LOGIN),
    ("POST", "/company/criteria"): only({"recruiter_a", "recruiter_b"}, ok=400, anonymous=LOGIN),
    ("GET", "/interviews/{interview_id}/scorecard"): only({"recruiter_a"}, anonymous=LOGIN),
    ("POST", "/interviews/{interview_id}/scorecard/scores"): only(
        {"recruiter_a"}, ok=400, anonymous=LOGIN
    ),
    ("POST", "/interviews/{interview_id}/scorecard/notes"): only(
        {"recruiter_a"}, ok=400, anonymous=LOGIN
    ),
    ("POST", "/interviews/{interview_id}/scorecard/outcome"): only(
        {"recruiter_a"}, ok=400, anonymous=LOGIN
    ),
    ("POST", "/interviews/{interview_id}/scorecard/release"): only(
        {"recruiter_a"}, ok=400, anonymous=LOGIN
    ),
    # I1 slots: whoever sees the booth sees its slots; only its students act on them (an
    # empty form is a 400); company A's recruiter runs the desk; the fair's managers set
    # the booking window (both fields empty: closed); a booking's .ics is for the
    # candidate and the panel; "continue later" for the panel only.
    ("GET", "/fairs/{slug}/booths/{booth_id}/slots"): campus(),
    ("POST", "/fairs/{slug}/booths/{booth_id}/slots"): only({"student_a"}, ok=400),
    ("GET", "/company/fairs/{slug}/slots"): only({"recruiter_a"}, anonymous=LOGIN),
    ("POST", "/company/fairs/{slug}/slots"): only({"recruiter_a"}, ok=400, anonymous=LOGIN),
    ("POST", "/organiser/fairs/{slug}/booking-window"): only(MANAGERS_A, ok=303, anonymous=LOGIN),
    ("GET", "/interviews/{interview_id}/booking.ics"): only(
        {"student_a", "recruiter_a"}, anonymous=LOGIN
    ),
    ("GET", "/interviews/{interview_id}/follow-up"): only({"recruiter_a"}, anonymous=LOGIN),
    ("POST", "/interviews/{interview_id}/follow-up"): only(
        {"recruiter_a"}, ok=400, anonymous=LOGIN
    ),
}
# Session plumbing, tested in test_accounts: any caller with a valid token.
UNTABLED = {("POST", "/logout"), ("POST", "/lang")}
# The socket.io endpoint decides per connection (session, Origin) and per event:
# tests/test_socket_fair.py and tests/test_socket_security.py.
UNTABLED |= {("GET", "/socket.io/"), ("POST", "/socket.io/"), ("OPTIONS", "/socket.io/")}


async def _briefing(client: TestClient[Any, Any], world: World) -> int:
    async with client.app[DB].begin() as conn:
        fair = (
            (await conn.execute(t.fairs.select().where(t.fairs.c.id == world.campus_fair)))
            .mappings()
            .one()
        )
        result = await conn.execute(
            t.briefings.insert()
            .values(
                fair_id=world.campus_fair,
                company_id=world.company_a,
                title="Air briefing",
                starts_at=fair["starts_at"],
                ends_at=fair["starts_at"] + timedelta(hours=1),
                created_at=fair["starts_at"],
            )
            .returning(t.briefings.c.id)
        )
        briefing_id = int(result.scalar_one())
        await conn.execute(
            t.briefing_presenters.insert().values(
                briefing_id=briefing_id, user_id=world.users["recruiter_a"]
            )
        )
    return briefing_id


async def _job(client: TestClient[Any, Any], world: World) -> int:
    async with client.app[DB].connect() as conn:
        row = (
            (await conn.execute(t.jobs.select().where(t.jobs.c.booth_id == world.booth_a_campus)))
            .mappings()
            .first()
        )
    assert row is not None
    return int(row["id"])


async def _recording(client: TestClient[Any, Any], world: World, briefing_id: int) -> int:
    """A complete recording of the briefing, with a file to serve."""
    directory = client.app[SETTINGS].recordings_dir
    directory.mkdir(parents=True, exist_ok=True)
    name = f"briefing-{briefing_id}.webm"
    (directory / name).write_bytes(b"\x1a\x45\xdf\xa3" + b"\0" * 60)
    async with client.app[DB].begin() as conn:
        return await recording_store.insert_recording(
            conn,
            NewRecording(
                fair_id=world.campus_fair,
                kind="briefing",
                subject_id=briefing_id,
                started_by=world.users["recruiter_a"],
                file_name=name,
                state="complete",
                started_at=utcnow(),
                ended_at=utcnow(),
                bytes=64,
            ),
        )


def _params(world: World, briefing_id: int, job_id: int, recording_id: int) -> dict[str, str]:
    return {
        "slug": "campus",
        "recording_id": str(recording_id),
        "booth_id": str(world.booth_a_campus),
        "job_id": str(job_id),
        "id": str(briefing_id),
        "company_id": str(world.company_a),
        "kind": "jobs",
        "page": "subsidies-outside-region",
    }


async def _interview(client: TestClient[Any, Any], world: World) -> int:
    """recruiter_a interviews student_a at the campus fair."""
    async with client.app[DB].begin() as conn:
        result = await conn.execute(
            t.interviews.insert()
            .values(
                fair_id=world.campus_fair,
                company_id=world.company_a,
                student_id=world.users["student_a"],
                origin="chat",
                state="waiting",
                created_at=utcnow(),
            )
            .returning(t.interviews.c.id)
        )
        interview_id = int(result.scalar_one())
        for who, role in (("student_a", "candidate"), ("recruiter_a", "interviewer")):
            await conn.execute(
                t.interview_participants.insert().values(
                    interview_id=interview_id, user_id=world.users[who], role=role
                )
            )
    return interview_id


async def _application(client: TestClient[Any, Any], world: World, job_id: int) -> int:
    """student_a has applied to the job."""
    async with client.app[DB].begin() as conn:
        result = await conn.execute(
            t.job_applications.insert()
            .values(
                job_id=job_id,
                fair_id=world.campus_fair,
                company_id=world.company_a,
                student_id=world.users["student_a"],
                state="applied",
                created_at=utcnow(),
            )
            .returning(t.job_applications.c.id)
        )
        return int(result.scalar_one())


async def _booked_slot(client: TestClient[Any, Any], world: World, interview_id: int) -> None:
    """The interview was booked in a slot of company A's campus booth (I1)."""
    start = utcnow() + timedelta(days=1)
    async with client.app[DB].begin() as conn:
        result = await conn.execute(
            t.interview_slots.insert()
            .values(
                fair_id=world.campus_fair,
                booth_id=world.booth_a_campus,
                company_id=world.company_a,
                recruiter_id=world.users["recruiter_a"],
                starts_at=start,
                ends_at=start + timedelta(minutes=20),
                state="booked",
                booked_by=world.users["student_a"],
                created_at=utcnow(),
            )
            .returning(t.interview_slots.c.id)
        )
        slot_id = int(result.scalar_one())
        await conn.execute(
            t.interviews.update().where(t.interviews.c.id == interview_id).values(slot_id=slot_id)
        )


def registered_routes(client: TestClient[Any, Any]) -> set[tuple[str, str]]:
    routes = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("formatter") or info.get("path")
        if route.method == "HEAD" or path is None:
            continue  # HEAD mirrors GET; static directories have only a prefix
        routes.add((route.method, path))
    return routes


async def _call(client: TestClient[Any, Any], method: str, path: str, token: str) -> int:
    if method == "GET":
        response = await client.get(path, allow_redirects=False)
    else:
        response = await client.post(path, data={"csrf_token": token}, allow_redirects=False)
    return response.status


async def _matrix(
    client: TestClient[Any, Any], world: World, role: str
) -> dict[tuple[str, str], int]:
    if role == "anonymous":
        page = await client.get("/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert match
        token = match.group(1)
    else:
        token = await world.login(client, role)
    briefing_id = await _briefing(client, world)
    recording_id = await _recording(client, world, briefing_id)
    params = _params(world, briefing_id, await _job(client, world), recording_id)
    params["interview_id"] = str(await _interview(client, world))
    params["user_id"] = str(world.users["student_a"])
    params["agreement_id"] = str(await make_agreement(client.app[SERVICES], world))

    params["application_id"] = str(await _application(client, world, int(params["job_id"])))

    await _booked_slot(client, world, int(params["interview_id"]))
    seen = {}
    # Deletes go last, so the rows after them still find their job.
    for method, pattern in sorted(
        registered_routes(client) - UNTABLED, key=lambda r: (r[1].endswith("/delete"), r)
    ):
        seen[(method, pattern)] = await _call(client, method, pattern.format(**params), token)
    return seen


def test_every_route_has_a_decision(client: TestClient[Any, Any]) -> None:
    missing = registered_routes(client) - set(DECISIONS) - UNTABLED
    assert not missing, (
        f"routes without a permission decision in tests/test_routes.py: {sorted(missing)}"
    )
    stale = set(DECISIONS) - registered_routes(client)
    assert not stale, f"decisions for routes that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize("role", ROLES)
async def test_route_decisions(client: TestClient[Any, Any], world: World, role: str) -> None:
    seen = await _matrix(client, world, role)
    wrong = {
        f"{method} {path}": f"got {status}, expected {DECISIONS[(method, path)][role]}"
        for (method, path), status in seen.items()
        if status != DECISIONS[(method, path)][role]
    }
    assert not wrong, wrong


async def test_favicon_is_served(client: TestClient[Any, Any]) -> None:
    response = await client.get("/favicon.ico")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert (await response.text()).startswith("<svg")
    page = await (await client.get("/login")).text()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
