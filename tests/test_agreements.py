"""Intent agreements (I5): the text and its policy clause, sending, answering with the
hash, countersigning, versions, lists and access, on SQLite and PostgreSQL; then the
agreement.* socket events for every role (SOCKET_DECISIONS, read by
tests/test_socket_security.py).

recruiter_a (company A) interviewed student_a (school A) at the campus fair and made an
offer. The HTTP pages are in tests/test_agreement_routes.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from pydantic import ValidationError

from fairserver.auth import Actor
from fairserver.clock import utcnow
from fairserver.keys import DB, SERVICES
from fairserver.rooms.context import Services
from fairserver.rooms.errors import NotFound, ServiceError
from fairserver.rooms.fairs.policy import PolicyLibrary, split_front_matter
from fairserver.rooms.interviews import agreement_text as texts
from fairserver.rooms.interviews import agreement_views as views
from fairserver.rooms.interviews import agreements as service
from fairserver.rooms.interviews.agreements_access import (
    access_agreement,
    access_offer,
    agreements_for,
    party_of,
)
from fairserver.rooms.notify import RecordingNotifier
from fairserver.rooms.wiring import build_services
from fairserver.settings import PROJECT_ROOT
from fairserver.store import interviews as interview_store
from fairserver.store import tables as t
from fairserver.store.db import Database
from fairserver.store.interviews import NewInterview
from fairserver.store.live import MemoryLive
from tests.clock import FakeTime
from tests.factories import ROLES, World, build_world
from tests.interview_helpers import code, ok
from tests.sockets import connected

SIGNED_IN = [r for r in ROLES if r != "anonymous"]
POLICY = PROJECT_ROOT / "booths" / "policy"
FORM = {
    "position": "Offshore operator",
    "location": "Tianjin",
    "salary": 7000,
    "start_date": date(2027, 7, 1),
    "term_years": 3,
}


def actor_of(world: World, who: str) -> Actor:
    role = who.rsplit("_", 1)[0] if who != "admin" else "admin"
    school = {"a": world.school_a, "b": world.school_b}
    company = {"a": world.company_a, "b": world.company_b}
    side = who.rsplit("_", 1)[-1]
    return Actor(
        user_id=world.users[who],
        role=role,
        display_name=who,
        school_id=school.get(side) if role in {"student", "organiser"} else None,
        company_id=company.get(side) if role == "recruiter" else None,
        verified=True,
    )


async def offer_interview(db: Database, world: World, outcome: str | None = "offer") -> int:
    """recruiter_a's interview with student_a about company A's first campus job."""
    async with db.begin() as conn:
        job_id = (
            await conn.execute(
                sa.select(sa.func.min(t.jobs.c.id)).where(t.jobs.c.booth_id == world.booth_a_campus)
            )
        ).scalar_one()
        interview_id = await interview_store.insert_interview(
            conn,
            NewInterview(
                fair_id=world.campus_fair,
                company_id=world.company_a,
                student_id=world.users["student_a"],
                origin="slot",
                state="ended",
                created_at=utcnow(),
                job_id=job_id,
                owner_id=world.users["recruiter_a"],
            ),
        )
        await interview_store.add_participant(
            conn, interview_id, world.users["student_a"], "candidate", None
        )
        await interview_store.add_participant(
            conn, interview_id, world.users["recruiter_a"], "interviewer", utcnow()
        )
        if outcome is not None:
            await interview_store.set_outcome(
                conn, interview_id, outcome, world.users["recruiter_a"], utcnow()
            )
    return interview_id


async def send_agreement(
    services: Services, world: World, interview_id: int, **changes: Any
) -> int:
    recruiter = actor_of(world, "recruiter_a")
    offer = await access_offer(services, recruiter, interview_id)
    form = views.AgreementForm.model_validate({**FORM, **changes})
    return await service.send(services, recruiter, offer, form)


async def make_agreement(services: Services, world: World, **changes: Any) -> int:
    """An offer and the agreement sent from it: its id."""
    return await send_agreement(
        services, world, await offer_interview(services.db, world), **changes
    )


class Stage:
    def __init__(self, db: Database, world: World) -> None:
        self.world = world
        self.time = FakeTime()
        self.notifier = RecordingNotifier()
        self.services = build_services(
            db=db,
            live=MemoryLive(clock=self.time.monotonic),
            notifier=self.notifier,
            worker_id="w1",
            clock=self.time.wall,
        )

    def actor(self, who: str) -> Actor:
        return actor_of(self.world, who)

    async def found(self, who: str, agreement_id: int) -> Any:
        return await access_agreement(self.services, self.actor(who), agreement_id)

    async def answer(self, agreement_id: int, accept: bool = True, sha: str | None = None) -> Any:
        found = await self.found("student_a", agreement_id)
        sha = found.row.text_sha256 if sha is None else sha
        return await service.respond(self.services, self.actor("student_a"), found, accept, sha)

    async def countersign(self, agreement_id: int, who: str = "organiser_a") -> Any:
        found = await self.found(who, agreement_id)
        return await service.countersign(
            self.services, self.actor(who), found, found.row.text_sha256
        )

    async def change(self, agreement_id: int, **changes: Any) -> int:
        found = await self.found("recruiter_a", agreement_id)
        form = views.AgreementForm.model_validate({**FORM, **changes})
        return await service.change(self.services, self.actor("recruiter_a"), found, form)


@pytest.fixture
async def stage(db: Database) -> Stage:
    return Stage(db, await build_world(db))


async def table(db: Database, tbl: sa.Table, *where: Any) -> list[dict[str, Any]]:
    async with db.connect() as conn:
        stmt = sa.select(tbl).where(*where).order_by(*tbl.primary_key.columns)
        return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def history_kinds(db: Database, interview_id: int) -> list[str]:
    rows = await table(db, t.interview_history, t.interview_history.c.interview_id == interview_id)
    return [r["kind"] for r in rows]


# --- the text and the policy clause -------------------------------------------------------

TERMS = texts.AgreementTerms(
    company="Company A",
    student="Student A",
    school="School A",
    position="Offshore operator",
    location="Tianjin",
    salary=7000,
    start_date=date(2027, 7, 1),
    term_years=3,
)


def test_the_policy_page_declares_its_clause_in_front_matter_not_shown_on_the_page() -> None:
    library = PolicyLibrary(POLICY)
    for locale in ("en", "zh"):
        page = library.page("subsidies-outside-region", locale)
        assert page is not None
        assert "+++" not in page.body and "agreement_clause" not in page.body
        assert page.meta["agreement_clause"]["min_term_years"] == 3
    assert library.page("subsidies-outside-region", "en").title.startswith("Subsidies")  # type: ignore[union-attr]
    [clause] = texts.clauses_of(library)
    assert clause.page == "subsidies-outside-region" and clause.min_term_years == 3
    assert "28,000 yuan" in clause.english and "28000元" in clause.chinese


def test_front_matter_that_does_not_parse_is_dropped_never_shown() -> None:
    meta, rest = split_front_matter("+++\nnot = [toml\n+++\n# Title\n\nBody\n")
    assert meta == {} and rest == "# Title\n\nBody"
    meta, rest = split_front_matter("# Title\n+++\n")
    assert meta == {} and rest == "# Title\n+++\n"


def test_a_clause_needs_text_and_a_sane_minimum(tmp_path: Path) -> None:
    policy = tmp_path / "policy"
    policy.mkdir()
    pages = {
        "good.md": '+++\n[agreement_clause]\nmin_term_years = 2\ntext = "Two  years\\n or more."\n+++\n# G\n',
        "good.zh.md": '+++\n[agreement_clause]\ntext = "两年以上。"\n+++\n# G\n',
        "no-text.md": "+++\n[agreement_clause]\nmin_term_years = 2\n+++\n# N\n",
        "bad-years.md": '+++\n[agreement_clause]\nmin_term_years = 0\ntext = "x"\n+++\n# B\n',
        "plain.md": "# Plain\n\nNo clause.\n",
        "english-only.md": '+++\n[agreement_clause]\ntext = "Always."\n+++\n# E\n',
    }
    for name, source in pages.items():
        (policy / name).write_text(source, encoding="utf-8")
    clauses = texts.clauses_of(PolicyLibrary(policy))
    assert [(c.page, c.min_term_years, c.english, c.chinese) for c in clauses] == [
        ("english-only", 1, "Always.", "Always."),
        ("good", 2, "Two years or more.", "两年以上。"),
    ]
    assert [c.page for c in texts.applicable(clauses, 1)] == ["english-only"]
    assert [c.page for c in texts.applicable(clauses, 2)] == ["english-only", "good"]


def test_the_text_is_rendered_from_the_fields_alone_with_the_clause_from_three_years() -> None:
    clauses = texts.clauses_of(PolicyLibrary(POLICY))
    three = texts.render(TERMS, texts.applicable(clauses, 3))
    assert three == texts.render(TERMS, texts.applicable(clauses, 3))
    for part in ("Company A", "Student A", "School A", "Offshore operator", "Tianjin"):
        assert part in three
    assert "7,000 yuan" in three and "2027-07-01" in three and "3 years" in three
    assert "28,000 yuan" in three and "28000元" in three
    assert "6. Subsidy for working outside the region" in three and "六、区外就业补贴" in three
    two = texts.render(replace(TERMS, term_years=2), texts.applicable(clauses, 2))
    assert "28,000" not in two and "区外就业补贴" not in two and "2 years" in two
    assert texts.sha256_of(three) == hashlib.sha256(three.encode("utf-8")).hexdigest()
    assert texts.sha256_of(three) != texts.sha256_of(two)


def test_the_form_cleans_fields_and_refuses_ones_left_empty() -> None:
    form = views.AgreementForm.model_validate({**FORM, "position": " Lab \u202etech  "})
    assert form.position == "Lab tech"  # what the text shows is what its hash covers
    for field, value in (("position", "\u202e\u202c"), ("term_years", 0), ("term_years", 11)):
        with pytest.raises(ValidationError):
            views.AgreementForm.model_validate({**FORM, field: value})
    with pytest.raises(ValidationError):
        views.AgreementForm.model_validate({**FORM, "signed_by": "someone"})


# --- sending ------------------------------------------------------------------------------


async def test_sending_stores_the_text_its_hash_and_tells_the_student(stage: Stage) -> None:
    w, services = stage.world, stage.services
    interview_id = await offer_interview(services.db, w)
    offer = await access_offer(services, stage.actor("recruiter_a"), interview_id)
    # Prefilled from the interview's job.
    assert views.form_defaults(offer) == {
        "position": "Offshore operator / 海上操作工",
        "location": "Tianjin / 天津",
        "salary": "6000",
    }
    agreement_id = await send_agreement(services, w, interview_id)
    [row] = await table(services.db, t.agreements)
    assert row["id"] == agreement_id and row["state"] == "sent" and row["version"] == 1
    assert row["school_id"] == w.school_a and row["student_id"] == w.users["student_a"]
    assert row["job_id"] == offer.interview.job_id and row["sent_by"] == w.users["recruiter_a"]
    assert row["text_sha256"] == hashlib.sha256(row["text"].encode("utf-8")).hexdigest()
    assert "Student A" in row["text"] and "School A" in row["text"]  # the profile's real name
    assert "28,000 yuan" in row["text"] and "28,000 yuan" in row["subsidy_text"]
    assert await history_kinds(services.db, interview_id) == ["agreement_sent"]
    [entry] = await table(services.db, t.interview_history)
    assert json.loads(entry["detail"]) == {
        "agreement_id": agreement_id,
        "version": 1,
        "text_sha256": row["text_sha256"],
    }
    assert stage.notifier.events() == [(f"user:{w.users['student_a']}", "agreement.sent")]
    assert stage.notifier.sent[0].data == {
        "agreement_id": agreement_id,
        "version": 1,
        "state": "sent",
        "company": "Company A",
        "position": "Offshore operator",
        "text_sha256": row["text_sha256"],
    }


async def test_a_short_term_has_no_subsidy_clause(stage: Stage) -> None:
    await make_agreement(stage.services, stage.world, term_years=2)
    [row] = await table(stage.services.db, t.agreements)
    assert row["subsidy_text"] == "" and "28,000" not in row["text"]


async def test_no_agreement_without_an_offer(stage: Stage) -> None:
    w, services = stage.world, stage.services
    for outcome in (None, "reject", "advance"):
        interview_id = await offer_interview(services.db, w, outcome=outcome)
        with pytest.raises(ServiceError) as refused:
            await send_agreement(services, w, interview_id)
        assert refused.value.code == "agreement.no_offer"
    assert await table(services.db, t.agreements) == []
    assert stage.notifier.sent == []


async def test_only_recruiters_of_the_company_on_the_panel_may_send(stage: Stage) -> None:
    w, services = stage.world, stage.services
    interview_id = await offer_interview(services.db, w)
    for who in ("student_a", "student_b", "recruiter_b", "organiser_a", "organiser_b", "admin"):
        with pytest.raises(NotFound):
            await access_offer(services, stage.actor(who), interview_id)
    with pytest.raises(NotFound):
        await access_offer(services, stage.actor("recruiter_a"), interview_id + 1000)


async def test_two_sends_at_once_make_one_agreement(stage: Stage) -> None:
    w, services = stage.world, stage.services
    interview_id = await offer_interview(services.db, w)
    results = await asyncio.gather(
        send_agreement(services, w, interview_id),
        send_agreement(services, w, interview_id, salary=8000),
        return_exceptions=True,
    )
    codes = sorted(r.code if isinstance(r, ServiceError) else "ok" for r in results)
    assert codes == ["agreement.exists", "ok"], results
    assert len(await table(services.db, t.agreements)) == 1
    assert await history_kinds(services.db, interview_id) == ["agreement_sent"]


# --- answering ----------------------------------------------------------------------------


async def test_the_student_accepts_the_text_they_were_shown(stage: Stage) -> None:
    w, services = stage.world, stage.services
    agreement_id = await make_agreement(services, w)
    stage.notifier.sent.clear()
    view = await stage.answer(agreement_id)
    assert view.state == "accepted" and view.may_respond is False
    [signature] = await table(services.db, t.agreement_signatures)
    assert (signature["party"], signature["decision"], signature["user_id"]) == (
        "student",
        "accept",
        w.users["student_a"],
    )
    assert signature["text_sha256"] == view.text_sha256 and signature["at"] == stage.time.now
    [row] = await table(services.db, t.agreements)
    assert row["responded_at"] == stage.time.now
    assert await history_kinds(services.db, row["interview_id"]) == [
        "agreement_sent",
        "agreement_accepted",
    ]
    assert stage.notifier.events() == [
        (f"user:{w.users['student_a']}", "agreement.updated"),
        (f"user:{w.users['recruiter_a']}", "agreement.updated"),
    ]


async def test_the_student_declines(stage: Stage) -> None:
    agreement_id = await make_agreement(stage.services, stage.world)
    view = await stage.answer(agreement_id, accept=False)
    assert view.state == "declined"
    [signature] = await table(stage.services.db, t.agreement_signatures)
    assert signature["decision"] == "decline"
    assert "agreement_declined" in await history_kinds(stage.services.db, view.interview_id)


async def test_an_answer_with_another_hash_is_refused_as_changed(stage: Stage) -> None:
    agreement_id = await make_agreement(stage.services, stage.world)
    with pytest.raises(ServiceError) as refused:
        await stage.answer(agreement_id, sha="0" * 64)
    assert refused.value.code == "agreement.changed"
    assert await table(stage.services.db, t.agreement_signatures) == []
    [row] = await table(stage.services.db, t.agreements)
    assert row["state"] == "sent"


async def test_only_the_student_answers_and_only_the_school_countersigns(stage: Stage) -> None:
    agreement_id = await make_agreement(stage.services, stage.world)
    for who in ("recruiter_a", "organiser_a", "admin"):
        found = await stage.found(who, agreement_id)
        with pytest.raises(NotFound):
            await service.respond(
                stage.services, stage.actor(who), found, True, found.row.text_sha256
            )
    await stage.answer(agreement_id)
    for who in ("student_a", "recruiter_a"):
        found = await stage.found(who, agreement_id)
        with pytest.raises(NotFound):
            await service.countersign(
                stage.services, stage.actor(who), found, found.row.text_sha256
            )


async def test_a_double_accept_from_two_tabs_leaves_one_record(stage: Stage) -> None:
    w, services = stage.world, stage.services
    agreement_id = await make_agreement(services, w)
    stage.notifier.sent.clear()
    found = await stage.found("student_a", agreement_id)
    sha, student = found.row.text_sha256, stage.actor("student_a")
    views = await asyncio.gather(
        service.respond(services, student, found, True, sha),
        service.respond(services, student, found, True, sha),
    )
    # The second tab is told what is on record; nothing is recorded twice.
    assert [v.state for v in views] == ["accepted", "accepted"]
    assert len(await table(services.db, t.agreement_signatures)) == 1
    kinds = await history_kinds(services.db, found.row.interview_id)
    assert kinds.count("agreement_accepted") == 1
    assert [e for _, e in stage.notifier.events()] == ["agreement.updated"] * 2


async def test_accept_and_decline_at_once_leave_one_answer(stage: Stage) -> None:
    services = stage.services
    agreement_id = await make_agreement(services, stage.world)
    found = await stage.found("student_a", agreement_id)
    sha, student = found.row.text_sha256, stage.actor("student_a")
    results = await asyncio.gather(
        service.respond(services, student, found, True, sha),
        service.respond(services, student, found, False, sha),
        return_exceptions=True,
    )
    codes = sorted(r.code if isinstance(r, ServiceError) else "ok" for r in results)
    assert codes == ["agreement.answered", "ok"], results
    [signature] = await table(services.db, t.agreement_signatures)
    [row] = await table(services.db, t.agreements)
    assert row["state"] == {"accept": "accepted", "decline": "declined"}[signature["decision"]]


# --- countersigning -----------------------------------------------------------------------


async def test_the_school_countersigns_an_accepted_agreement_once(stage: Stage) -> None:
    w, services = stage.world, stage.services
    agreement_id = await make_agreement(services, w)
    with pytest.raises(ServiceError) as early:
        await stage.countersign(agreement_id)
    assert early.value.code == "agreement.not_accepted"
    await stage.answer(agreement_id)
    stage.notifier.sent.clear()
    view = await stage.countersign(agreement_id)
    assert view.countersigned_at == stage.time.now and view.may_countersign is False
    again = await stage.countersign(agreement_id, who="admin")  # a second click: no new record
    assert again.countersigned_at == view.countersigned_at
    signatures = await table(services.db, t.agreement_signatures)
    assert [(s["party"], s["decision"]) for s in signatures] == [
        ("student", "accept"),
        ("school", "countersign"),
    ]
    assert signatures[1]["user_id"] == w.users["organiser_a"]
    assert signatures[1]["text_sha256"] == signatures[0]["text_sha256"] == view.text_sha256
    [row] = await table(services.db, t.agreements)
    assert row["countersigned_by"] == w.users["organiser_a"]
    kinds = await history_kinds(services.db, row["interview_id"])
    assert kinds == ["agreement_sent", "agreement_accepted", "agreement_countersigned"]
    assert len(stage.notifier.sent) == 2  # student and sender, once


async def test_two_countersigns_at_once_leave_one_record(stage: Stage) -> None:
    services = stage.services
    agreement_id = await make_agreement(services, stage.world)
    await stage.answer(agreement_id)
    await asyncio.gather(stage.countersign(agreement_id), stage.countersign(agreement_id, "admin"))
    signatures = await table(services.db, t.agreement_signatures)
    assert [s["party"] for s in signatures] == ["student", "school"]


async def test_a_declined_agreement_is_not_countersigned(stage: Stage) -> None:
    agreement_id = await make_agreement(stage.services, stage.world)
    await stage.answer(agreement_id, accept=False)
    with pytest.raises(ServiceError) as refused:
        await stage.countersign(agreement_id)
    assert refused.value.code == "agreement.not_accepted"


# --- versions -----------------------------------------------------------------------------


async def test_a_change_is_a_new_version_and_the_old_one_keeps_its_signature(
    stage: Stage,
) -> None:
    w, services = stage.world, stage.services
    first = await make_agreement(services, w)
    await stage.answer(first)
    old_sha = (await stage.found("student_a", first)).row.text_sha256
    stage.notifier.sent.clear()
    second = await stage.change(first, salary=7500, term_years=2)
    rows = {r["id"]: r for r in await table(services.db, t.agreements)}
    assert rows[first]["state"] == "superseded" and rows[first]["text_sha256"] == old_sha
    new = rows[second]
    assert (new["version"], new["supersedes_id"], new["state"]) == (2, first, "sent")
    assert "7,500 yuan" in new["text"] and "28,000" not in new["text"]
    assert new["text_sha256"] == hashlib.sha256(new["text"].encode()).hexdigest() != old_sha
    [signature] = await table(services.db, t.agreement_signatures)
    assert (signature["agreement_id"], signature["text_sha256"]) == (first, old_sha)
    assert (await history_kinds(services.db, new["interview_id"]))[-1] == "agreement_version"
    assert stage.notifier.events() == [(f"user:{w.users['student_a']}", "agreement.sent")]
    # Pages link both ways.
    assert [v.id for v in (await stage.found("student_a", second)).earlier] == [first]
    assert (await stage.found("student_a", first)).row.superseded_by_id == second
    # Answering the old version, or the new one with the old hash: the text changed.
    for target, sha in ((first, old_sha), (second, old_sha)):
        with pytest.raises(ServiceError) as refused:
            await stage.answer(target, sha=sha)
        assert refused.value.code == "agreement.changed"
        assert refused.value.details["current_id"] == (second if target == first else None)
    assert (await stage.answer(second)).state == "accepted"


async def test_a_countersigned_or_declined_agreement_is_not_changed(stage: Stage) -> None:
    services = stage.services
    signed = await make_agreement(services, stage.world)
    await stage.answer(signed)
    await stage.countersign(signed)
    declined = await make_agreement(services, stage.world)
    await stage.answer(declined, accept=False)
    for agreement_id in (signed, declined):
        with pytest.raises(ServiceError) as refused:
            await stage.change(agreement_id, salary=1)
        assert refused.value.code == "agreement.final"
    with pytest.raises(NotFound):  # the student does not change it
        found = await stage.found("student_a", signed)
        await service.change(services, stage.actor("student_a"), found, views.AgreementForm(**FORM))


async def test_two_changes_at_once_make_one_new_version(stage: Stage) -> None:
    services = stage.services
    first = await make_agreement(services, stage.world)
    results = await asyncio.gather(
        stage.change(first, salary=7100), stage.change(first, salary=7200), return_exceptions=True
    )
    codes = sorted(r.code if isinstance(r, ServiceError) else "ok" for r in results)
    assert codes == ["agreement.final", "ok"], results
    states = sorted(r["state"] for r in await table(services.db, t.agreements))
    assert states == ["sent", "superseded"]


async def test_a_change_racing_an_accept_never_loses_the_answer(stage: Stage) -> None:
    services = stage.services
    first = await make_agreement(services, stage.world)
    results = await asyncio.gather(
        stage.answer(first), stage.change(first, salary=7300), return_exceptions=True
    )
    rows = {r["id"]: r for r in await table(services.db, t.agreements)}
    assert rows[first]["state"] == "superseded"  # a change after acceptance is allowed too
    signatures = await table(services.db, t.agreement_signatures)
    if isinstance(results[0], ServiceError):
        assert results[0].code == "agreement.changed" and signatures == []
    else:
        assert [s["agreement_id"] for s in signatures] == [first]


# --- access and lists ---------------------------------------------------------------------


async def test_who_sees_an_agreement(stage: Stage) -> None:
    agreement_id = await make_agreement(stage.services, stage.world)
    sides = {
        "student_a": "student",
        "recruiter_a": "company",
        "organiser_a": "school",
        "admin": "admin",
    }
    for who in SIGNED_IN:
        if who in sides:
            found = await stage.found(who, agreement_id)
            assert found.party == sides[who] == party_of(stage.actor(who), found.row)
            # Every side sees the same text and hash.
            assert views.view_of(found).text_sha256 == found.row.text_sha256
        else:
            with pytest.raises(NotFound):
                await stage.found(who, agreement_id)
    for missing in (agreement_id + 1, 0, 2**31):
        with pytest.raises(NotFound):
            await stage.found("admin", missing)
    with pytest.raises(NotFound):
        await access_agreement(stage.services, Actor(), agreement_id)


async def test_each_list_shows_only_its_own(stage: Stage) -> None:
    w, services = stage.world, stage.services
    first = await make_agreement(services, w)
    latest = await stage.change(first, salary=7400)
    expected = {
        "student_a": [latest],
        "student_b": [],
        "recruiter_a": [latest],
        "recruiter_b": [],
        "organiser_a": [latest],
        "organiser_b": [],
        "admin": [latest],  # superseded versions are reached from their successor
    }
    for who, ids in expected.items():
        assert [r.id for r in await agreements_for(services, stage.actor(who))] == ids, who
    with pytest.raises(NotFound):
        await agreements_for(services, Actor())


# --- socket events ------------------------------------------------------------------------

VIEWERS = {"student_a", "recruiter_a", "organiser_a", "admin"}


def _row(allowed: set[str], refused: str = "not_found") -> dict[str, str]:
    return {role: "ok" if role in allowed else refused for role in SIGNED_IN}


SOCKET_DECISIONS: dict[str, dict[str, str]] = {
    "agreement.get": _row(VIEWERS),
    # Only the student answers; the others cannot even name the event (role check).
    "agreement.respond": _row({"student_a"}),
    "agreement.countersign": _row({"organiser_a", "admin"}),
}


async def _app_agreement(client: TestClient[Any, Any], world: World, accepted: bool) -> int:
    services = client.app[SERVICES]
    agreement_id = await make_agreement(services, world)
    if accepted:
        student = actor_of(world, "student_a")
        found = await access_agreement(services, student, agreement_id)
        await service.respond(services, student, found, True, found.row.text_sha256)
    return agreement_id


@pytest.mark.parametrize("role", SIGNED_IN)
async def test_agreement_event_decisions(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack, role: str
) -> None:
    to_answer = await _app_agreement(client, world, accepted=False)
    to_sign = await _app_agreement(client, world, accepted=True)
    async with client.app[DB].connect() as conn:
        hashes = dict(
            (await conn.execute(sa.select(t.agreements.c.id, t.agreements.c.text_sha256))).all()
        )
    sock = await stack.enter_async_context(connected(client, world, role))
    seen = {
        "agreement.get": code(await sock.call("agreement.get", {"agreement_id": to_answer})),
        "agreement.respond": code(
            await sock.call(
                "agreement.respond",
                {"agreement_id": to_answer, "decision": "accept", "text_sha256": hashes[to_answer]},
            )
        ),
        "agreement.countersign": code(
            await sock.call(
                "agreement.countersign",
                {"agreement_id": to_sign, "text_sha256": hashes[to_sign]},
            )
        ),
    }
    assert seen == {event: SOCKET_DECISIONS[event][role] for event in seen}
    assert set(SOCKET_DECISIONS) == set(seen)


async def test_agreement_events_over_a_real_socket(
    client: TestClient[Any, Any], world: World, stack: AsyncExitStack
) -> None:
    student = await stack.enter_async_context(connected(client, world, "student_a"))
    agreement_id = await _app_agreement(client, world, accepted=False)
    sent = await student.wait_for("agreement.sent")
    assert sent["agreement_id"] == agreement_id and sent["version"] == 1
    view = ok(await student.call("agreement.get", {"agreement_id": agreement_id}))
    assert (
        view["text_sha256"]
        == sent["text_sha256"]
        == hashlib.sha256(view["text"].encode()).hexdigest()
    )
    assert view["party"] == "student" and view["may_respond"] is True
    answer = {"agreement_id": agreement_id, "decision": "accept", "text_sha256": "f" * 64}
    changed = await student.call("agreement.respond", answer)
    assert code(changed) == "agreement.changed"
    accepted = ok(
        await student.call("agreement.respond", {**answer, "text_sha256": view["text_sha256"]})
    )
    assert accepted["state"] == "accepted" and accepted["signatures"][0]["party"] == "student"
    updated = await student.wait_for("agreement.updated")
    assert updated["state"] == "accepted"
    organiser = await stack.enter_async_context(connected(client, world, "organiser_b"))
    assert (
        code(await organiser.call("agreement.get", {"agreement_id": agreement_id})) == "not_found"
    )
    # Ids are strict integers: no bools, strings or out-of-range values.
    for bad in (True, "1", 0, 2**31):
        reply = await student.call("agreement.get", {"agreement_id": bad})
        assert code(reply) == "request.invalid", bad
    bad_hash = {**answer, "text_sha256": "F" * 64}
    assert code(await student.call("agreement.respond", bad_hash)) == "request.invalid"
    spoofed = {"agreement_id": agreement_id, "user_id": world.users["student_b"]}
    assert code(await student.call("agreement.get", spoofed)) == "request.invalid"
