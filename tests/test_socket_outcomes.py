"""interview.scorecard / score / note / outcome / release and job.applications over a real
socket: the decision for every role, and what the candidate's own socket receives (the
released outcome and message, and nothing else, ever)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fairserver.keys import DB, SERVICES
from fairserver.rooms.interviews import scorecards
from fairserver.rooms.interviews.scorecards import CriterionForm
from tests.factories import ROLES, World
from tests.interview_helpers import add_colleagues, code, ok
from tests.sockets import connected
from tests.test_outcomes import make_interview
from tests.test_routes import _application, _job

SIGNED_IN = [r for r in ROLES if r != "anonymous"]


def _row(allowed: set[str]) -> dict[str, str]:
    return {role: "ok" if role in allowed else "not_found" for role in SIGNED_IN}


PANEL = {"recruiter_a"}  # the interview's panel; its company's other recruiters are not on it
SOCKET_DECISIONS: dict[str, dict[str, str]] = {
    "interview.scorecard": _row(PANEL),
    "interview.score": _row(PANEL),
    "interview.note": _row(PANEL),
    "interview.outcome": _row(PANEL),
    "interview.release": _row(PANEL),
    "job.applications": _row({"recruiter_a"}),  # the job's company
}


async def _prepared(client: TestClient[Any, Any], world: World) -> tuple[int, int, int]:
    """(interview id, a criterion of company A, a job of company A with an application)."""
    iid = await make_interview(client.app[DB], world, ("recruiter_a",))
    criterion = await scorecards.add_criterion(
        client.app[SERVICES], world.company_a, CriterionForm(name="Technical", scale=5)
    )
    job_id = await _job(client, world)
    await _application(client, world, job_id)
    return iid, criterion, job_id


@pytest.mark.parametrize("role", SIGNED_IN)
async def test_outcome_event_decisions(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack, role: str
) -> None:
    iid, criterion, job_id = await _prepared(client, world)
    sock = await stack.enter_async_context(connected(client, world, role))
    me = {"interview_id": iid}
    seen = {
        "interview.scorecard": code(await sock.call("interview.scorecard", me)),
        "interview.score": code(
            await sock.call(
                "interview.score", {**me, "ratings": [{"criterion_id": criterion, "rating": 4}]}
            )
        ),
        "interview.note": code(await sock.call("interview.note", {**me, "body": "Calm"})),
        "interview.outcome": code(
            await sock.call("interview.outcome", {**me, "outcome": "advance", "message": "Hi"})
        ),
        "interview.release": code(
            await sock.call("interview.release", {**me, "outcome": "advance"})
        ),
        "job.applications": code(await sock.call("job.applications", {"job_id": job_id})),
    }
    assert seen == {event: SOCKET_DECISIONS[event][role] for event in seen}
    assert set(SOCKET_DECISIONS) == set(seen)


async def test_another_company_and_a_colleague_off_the_panel_get_the_missing_answer(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    iid, criterion, job_id = await _prepared(client, world)
    [colleague] = await add_colleagues(client, world, 1)
    missing = {"interview_id": iid + 1000}
    for who in ("recruiter_b", colleague):
        sock = await stack.enter_async_context(connected(client, world, who))
        for event, extra in (
            ("interview.scorecard", {}),
            ("interview.note", {"body": "x"}),
            ("interview.outcome", {"outcome": "reject"}),
            ("interview.release", {"outcome": "reject"}),
            ("interview.score", {"ratings": [{"criterion_id": criterion, "rating": 1}]}),
        ):
            real = await sock.call(event, {"interview_id": iid, **extra})
            absent = await sock.call(event, {**missing, **extra})
            assert (
                real
                == absent
                == {
                    "ok": False,
                    "error": {"code": "not_found", "message": "not found"},
                }
            ), (who, event)
    other = await stack.enter_async_context(connected(client, world, "recruiter_b"))
    assert await other.call("job.applications", {"job_id": job_id}) == await other.call(
        "job.applications", {"job_id": 999999}
    )


async def test_payloads_are_strict(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    iid, criterion, _ = await _prepared(client, world)
    sock = await stack.enter_async_context(connected(client, world, "recruiter_a"))
    for event, payload in (
        ("interview.scorecard", {"interview_id": True}),
        ("interview.scorecard", {"interview_id": "1"}),
        ("interview.score", {"interview_id": iid, "ratings": []}),
        ("interview.score", {"interview_id": iid, "ratings": [{"criterion_id": criterion}]}),
        # The author is the session's user: a payload naming one is refused, not obeyed.
        (
            "interview.score",
            {
                "interview_id": iid,
                "author_id": 1,
                "ratings": [{"criterion_id": criterion, "rating": 2}],
            },
        ),
        ("interview.outcome", {"interview_id": iid, "outcome": "hired"}),
        ("interview.release", {"interview_id": iid}),
        ("interview.note", {"interview_id": iid, "body": "   "}),
        ("job.applications", {"job_id": 0}),
    ):
        assert code(await sock.call(event, payload)) == "request.invalid", (event, payload)


async def test_the_candidate_socket_hears_the_release_and_nothing_else(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    iid, criterion, _ = await _prepared(client, world)
    student = await stack.enter_async_context(connected(client, world, "student_a"))
    ok(await student.call("fair.join", {"fair": "campus"}))
    recruiter = await stack.enter_async_context(connected(client, world, "recruiter_a"))
    me = {"interview_id": iid}
    ok(
        await recruiter.call(
            "interview.score", {**me, "ratings": [{"criterion_id": criterion, "rating": 5}]}
        )
    )
    ok(await recruiter.call("interview.note", {**me, "body": "NOTE-SECRET"}))
    set_reply = ok(
        await recruiter.call("interview.outcome", {**me, "outcome": "offer", "message": "Welcome"})
    )
    assert set_reply["released_at"] is None
    assert code(await student.call("interview.scorecard", me)) == "not_found"
    view = ok(await recruiter.call("interview.scorecard", me))
    assert [n["body"] for n in view["notes"]] == ["NOTE-SECRET"]
    assert [h["kind"] for h in view["history"]] == ["score", "note", "outcome"]
    assert view["outcome"]["outcome"] == "offer" and view["mine"]["ratings"] == [
        {"criterion_id": criterion, "rating": 5}
    ]
    ok(await recruiter.call("interview.release", {**me, "outcome": "offer"}))
    released = await student.wait_for("interview.outcome_released")
    assert released == {"interview_id": iid, "outcome": "offer", "message": "Welcome"}
    # Nothing about the scorecard ever reached the candidate's socket.
    everything = repr(dict(student.received))
    assert "NOTE-SECRET" not in everything and "rating" not in everything
    assert "interview.outcome_released" in student.received
    assert all(
        not event.startswith(("interview.score", "interview.note")) for event in student.received
    )
