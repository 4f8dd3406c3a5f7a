"""The school's reports (F6): one SQL statement per report, the same figures on SQLite
and PostgreSQL.

A report breaks a set of fairs down by fair, by company or by major. Each metric is a
branch that groups its own facts (attendance, questions, queue entries, interviews,
agreements) by the report's key; the branches are stacked with UNION ALL and folded into
one row per key, so no Python loop ever touches a fact row. Every branch is computed
twice through a two-row ``grains`` table: once per key (g = 0) and once for the whole
report (g = 1, key NULL), which is the total line. A total is not a sum of the lines above
it: a student who visits three companies is one attendee of the fair.

Beside each group of figures goes the number of distinct students behind it (the
``*_students`` columns), so that a cross-school view can suppress the groups that fewer
than five students make up.

Definitions (docs/decisions.md, Reports):
- attendees: distinct students with any attendance; booth visits: booth intervals.
- briefing attendances: (briefing, student) pairs; watch time: their intervals with the
  overlaps of several tabs merged; peak: the largest audience one briefing had at once.
- queue waits: from joining to being called, whole seconds, nearest-rank p50 and p90.
- interviews held: started and not a no-show; outcomes and offers: released ones only.
- agreements signed: accepted by the student; countersigned: by the school.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fairserver.store import tables as t
from fairserver.store.db import fetch_all_as, seconds_between
from fairserver.store.intervals import islands, open_end

By = Literal["fair", "company", "major"]
BY: tuple[By, ...] = ("fair", "company", "major")

# Each metric group: its figures, and the column counting the students behind them.
GROUPS: dict[str, tuple[tuple[str, ...], str]] = {
    "attendance": (("attendees", "booth_visits"), "attendees"),
    "briefings": (
        ("briefing_attendances", "watch_seconds", "peak_concurrency"),
        "briefing_students",
    ),
    "questions": (("questions_asked", "questions_answered"), "question_students"),
    "queue": (("queue_entries", "wait_p50", "wait_p90"), "queue_students"),
    "interviews": (
        ("interviews_held", "no_shows", "outcomes_released", "offers"),
        "interview_students",
    ),
    "agreements": (("agreements_signed", "agreements_countersigned"), "agreement_students"),
}
# Figures that are NULL when nothing was measured (no waits, no audience), not 0.
MAYBE = frozenset({"peak_concurrency", "wait_p50", "wait_p90"})
METRICS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [name for figures, _ in GROUPS.values() for name in figures]
        + [students for _, students in GROUPS.values()]
    )
)


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One line of a report: a fair, a company or a major; ``key`` None is the total."""

    key: int | str | None
    label: str | None
    attendees: int
    booth_visits: int
    briefing_attendances: int
    watch_seconds: int
    peak_concurrency: int | None
    briefing_students: int
    questions_asked: int
    questions_answered: int
    question_students: int
    queue_entries: int
    wait_p50: int | None
    wait_p90: int | None
    queue_students: int
    interviews_held: int
    no_shows: int
    outcomes_released: int
    offers: int
    interview_students: int
    agreements_signed: int
    agreements_countersigned: int
    agreement_students: int

    @property
    def is_total(self) -> bool:
        return self.key is None


def _one() -> Any:
    return sa.literal_column("1")


def sum_flag(condition: Any) -> Any:
    """How many rows meet ``condition``."""
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _grained(source: sa.Subquery | sa.CTE, grains: sa.CTE) -> sa.Subquery:
    """``source`` twice: per key (g 0) and with the key blanked for the total (g 1)."""
    others = [column for column in source.c if column.name != "key"]
    key = sa.case((grains.c.g == _one(), sa.null()), else_=source.c.key)
    return (
        sa.select(grains.c.g, key.label("key"), *others)
        .select_from(source.join(grains, sa.true()))
        .subquery()
    )


class _Query:
    """The pieces of one report's statement."""

    def __init__(
        self,
        conn: AsyncConnection,
        by: By,
        fair_ids: Sequence[int],
        school_id: int | None,
        now: datetime,
    ) -> None:
        self.conn, self.by, self.fair_ids, self.now = conn, by, list(fair_ids), now
        u, sp = t.users, t.student_profiles
        students = (
            sa.select(u.c.id.label("sid"), sa.func.coalesce(sp.c.major, "").label("major"))
            .select_from(u.join(sp, sp.c.user_id == u.c.id))
            .where(u.c.role == "student")
        )
        if school_id is not None:
            students = students.where(sp.c.school_id == school_id)
        self.students = students.cte("students")
        self.grains = (
            sa.select(sa.literal_column("0").label("g"))
            .union_all(sa.select(sa.literal_column("1").label("g")))
            .cte("grains")
        )
        self.branches: list[sa.Select[Any]] = []

    def key(self, fair: Any, company: Any) -> Any:
        return {"fair": fair, "company": company, "major": self.students.c.major}[self.by]

    def branch(self, g: sa.Subquery, **figures: Any) -> None:
        """One UNION ALL branch: g, key and the given figures, NULL for every other."""
        columns = [
            figures[name].label(name)
            if name in figures
            else sa.cast(sa.null(), sa.Integer).label(name)
            for name in METRICS
        ]
        self.branches.append(
            sa.select(g.c.g, g.c.key, *columns)
            .where(g.c.key.is_not(None) | (g.c.g == _one()))
            .group_by(g.c.g, g.c.key)
        )

    def attendance(self, kind: str | None = None) -> sa.Subquery:
        """Attendance intervals of the report's fairs and students, with their key; only
        those of ``kind`` when given (read through the (kind, subject) index)."""
        if self.by == "company":
            # Each kind joined to its own subject (an inner join per kind, stacked) costs
            # less than three outer joins on every interval.
            kinds = (kind,) if kind else t.ATTENDANCE_KINDS
            parts = [self._attendance_of(one) for one in kinds]
            stacked = parts[0] if len(parts) == 1 else sa.union_all(*parts)
            return stacked.subquery(f"att_{kind or 'all'}")
        return self._attendance_of(kind).subquery(f"att_{kind or 'all'}")

    def _attendance_of(self, kind: str | None) -> sa.Select[Any]:
        a, st = t.attendance, self.students
        source: Any = a.join(st, st.c.sid == a.c.user_id)
        company: Any = sa.null()
        if self.by == "company" and kind != "fair":
            subject = {"booth": t.booths, "briefing": t.briefings, "interview": t.interviews}[
                str(kind)
            ]
            source = source.join(subject, subject.c.id == a.c.subject_id)
            company = subject.c.company_id
        query = (
            sa.select(
                a.c.id,
                a.c.user_id.label("sid"),
                a.c.kind,
                a.c.subject_id,
                a.c.joined_at,
                open_end(self.now).label("left_at"),
                self.key(a.c.fair_id, company).label("key"),
            )
            .select_from(source)
            .where(a.c.fair_id.in_(self.fair_ids))
        )
        return query if kind is None else query.where(a.c.kind == kind)

    def add_attendance(self) -> None:
        att = self.attendance()
        # Folded to one row per (key, student) first: the total line then groups a few
        # thousand rows instead of every interval again.
        per_student = (
            sa.select(att.c.key, att.c.sid, sum_flag(att.c.kind == "booth").label("visits"))
            .group_by(att.c.key, att.c.sid)
            .subquery()
        )
        g = _grained(per_student, self.grains)
        self.branch(
            g,
            attendees=sa.func.count(sa.distinct(g.c.sid)),
            booth_visits=sa.func.sum(g.c.visits),
        )

    def add_briefings(self) -> None:
        source = self.attendance("briefing")
        merged = islands(source, ("key", "subject_id", "sid"), cte="merged")
        seconds = seconds_between(self.conn, merged.c.start, merged.c.end)
        # One row per (briefing, student): the key follows from either, so the total
        # line counts the same pairs and only the grouping by key changes.
        viewers = _grained(
            sa.select(merged.c.key, merged.c.subject_id, merged.c.sid)
            .add_columns(sa.func.sum(seconds).label("seconds"))
            .group_by(merged.c.key, merged.c.subject_id, merged.c.sid)
            .subquery(),
            self.grains,
        )
        self.branch(
            viewers,
            briefing_attendances=sa.func.count(),
            watch_seconds=sa.cast(sa.func.round(sa.func.sum(viewers.c.seconds)), sa.Integer),
            briefing_students=sa.func.count(sa.distinct(viewers.c.sid)),
        )
        # Peak audience: +1 at each island's start, -1 at its end (ends first at a tie,
        # so that back-to-back visits are not two people), running sum per briefing.
        events = sa.union_all(
            sa.select(
                merged.c.key,
                merged.c.subject_id,
                merged.c.start.label("at"),
                sa.literal_column("1").label("delta"),
            ),
            sa.select(
                merged.c.key,
                merged.c.subject_id,
                merged.c.end.label("at"),
                sa.literal_column("-1").label("delta"),
            ),
        ).subquery()
        partition: tuple[Any, ...]
        if self.by == "major":
            # A briefing's whole audience is more than each major's: the total line's
            # running sums need every key's events together.
            events = _grained(events, self.grains)
            partition = (events.c.g, events.c.key, events.c.subject_id)
        else:
            # A briefing belongs to one fair and one company: the total's peak is the
            # largest line's, so each briefing is summed once and the peaks are grained.
            partition = (events.c.key, events.c.subject_id)
        running = sa.select(
            *partition,
            sa.func.sum(events.c.delta)
            .over(partition_by=partition, order_by=(events.c.at, events.c.delta), rows=(None, 0))
            .label("audience"),
        ).subquery()
        if self.by != "major":
            running = _grained(
                sa.select(running.c.key, sa.func.max(running.c.audience).label("audience"))
                .group_by(running.c.key, running.c.subject_id)
                .subquery(),
                self.grains,
            )
        self.branch(running, peak_concurrency=sa.func.max(running.c.audience))

    def add_questions(self) -> None:
        q, br, st = t.questions, t.briefings, self.students
        facts = (
            sa.select(
                q.c.author_id.label("sid"),
                q.c.state,
                self.key(br.c.fair_id, br.c.company_id).label("key"),
            )
            .select_from(q.join(st, st.c.sid == q.c.author_id).join(br, br.c.id == q.c.briefing_id))
            .where(br.c.fair_id.in_(self.fair_ids))
            .subquery()
        )
        g = _grained(facts, self.grains)
        self.branch(
            g,
            questions_asked=sa.func.count(),
            questions_answered=sum_flag(g.c.state == "answered"),
            question_students=sa.func.count(sa.distinct(g.c.sid)),
        )

    def add_queue(self) -> None:
        qe, bo, st = t.queue_entries, t.booths, self.students
        wait = sa.case(
            (
                qe.c.called_at.is_not(None),
                sa.cast(
                    sa.func.round(seconds_between(self.conn, qe.c.joined_at, qe.c.called_at)),
                    sa.Integer,
                ),
            )
        )
        facts = (
            sa.select(
                qe.c.student_id.label("sid"),
                wait.label("wait"),
                self.key(bo.c.fair_id, bo.c.company_id).label("key"),
            )
            .select_from(
                qe.join(st, st.c.sid == qe.c.student_id).join(bo, bo.c.id == qe.c.booth_id)
            )
            .where(bo.c.fair_id.in_(self.fair_ids))
            .cte("queue_facts")
        )
        g = _grained(facts, self.grains)
        self.branch(
            g,
            queue_entries=sa.func.count(),
            queue_students=sa.func.count(sa.distinct(g.c.sid)),
        )
        # Nearest rank: the smallest wait with at least p of the waits at or below it.
        waited = _grained(
            sa.select(facts.c.key, facts.c.wait).where(facts.c.wait.is_not(None)).subquery(),
            self.grains,
        )
        ranked = sa.select(
            waited.c.g,
            waited.c.key,
            waited.c.wait,
            sa.func.row_number()
            .over(partition_by=(waited.c.g, waited.c.key), order_by=waited.c.wait)
            .label("rank"),
            sa.func.count().over(partition_by=(waited.c.g, waited.c.key)).label("n"),
        ).subquery()
        self.branch(
            ranked,
            wait_p50=sa.func.min(sa.case((ranked.c.rank * 2 >= ranked.c.n, ranked.c.wait))),
            wait_p90=sa.func.min(sa.case((ranked.c.rank * 10 >= ranked.c.n * 9, ranked.c.wait))),
        )

    def add_interviews(self) -> None:
        iv, st = t.interviews, self.students
        facts = (
            sa.select(
                iv.c.student_id.label("sid"),
                iv.c.started_at,
                iv.c.outcome,
                iv.c.released_at,
                self.key(iv.c.fair_id, iv.c.company_id).label("key"),
            )
            .select_from(iv.join(st, st.c.sid == iv.c.student_id))
            .where(iv.c.fair_id.in_(self.fair_ids))
            .subquery()
        )
        g = _grained(facts, self.grains)
        no_show = g.c.outcome == "no_show"
        released = g.c.released_at.is_not(None)
        self.branch(
            g,
            interviews_held=sum_flag(
                sa.and_(
                    g.c.started_at.is_not(None),
                    sa.or_(g.c.outcome.is_(None), g.c.outcome != "no_show"),
                )
            ),
            no_shows=sum_flag(no_show),
            outcomes_released=sum_flag(released),
            offers=sum_flag(sa.and_(released, g.c.outcome == "offer")),
            interview_students=sa.func.count(sa.distinct(g.c.sid)),
        )

    def add_agreements(self) -> None:
        ag, st = t.agreements, self.students
        facts = (
            sa.select(
                ag.c.student_id.label("sid"),
                ag.c.state,
                ag.c.countersigned_at,
                self.key(ag.c.fair_id, ag.c.company_id).label("key"),
            )
            .select_from(ag.join(st, st.c.sid == ag.c.student_id))
            .where(ag.c.fair_id.in_(self.fair_ids))
            .subquery()
        )
        g = _grained(facts, self.grains)
        signed = g.c.state == "accepted"
        self.branch(
            g,
            agreements_signed=sum_flag(signed),
            agreements_countersigned=sum_flag(sa.and_(signed, g.c.countersigned_at.is_not(None))),
            agreement_students=sa.func.count(sa.distinct(g.c.sid)),
        )

    def add_empty_keys(self) -> None:
        """Lines that show with nothing to count: the total, every fair, every booth's
        company."""
        columns = [sa.cast(sa.null(), sa.Integer).label(name) for name in METRICS]
        key_type: Any = sa.String if self.by == "major" else sa.Integer
        self.branches.append(
            sa.select(sa.literal_column("1").label("g"), sa.cast(sa.null(), key_type), *columns)
        )
        if self.by == "fair":
            keys = sa.select(t.fairs.c.id.label("key")).where(t.fairs.c.id.in_(self.fair_ids))
        elif self.by == "company":
            keys = (
                sa.select(t.booths.c.company_id.label("key"))
                .where(t.booths.c.fair_id.in_(self.fair_ids))
                .distinct()
            )
        else:
            return
        listed = keys.subquery()
        self.branches.append(sa.select(sa.literal_column("0").label("g"), listed.c.key, *columns))

    def statement(self) -> sa.Select[Any]:
        stacked = sa.union_all(*self.branches).subquery()
        folded = (
            sa.select(
                stacked.c.g,
                stacked.c.key,
                *[
                    (
                        sa.func.max(stacked.c[name])
                        if name in MAYBE
                        else sa.func.coalesce(sa.func.max(stacked.c[name]), 0)
                    ).label(name)
                    for name in METRICS
                ],
            )
            .group_by(stacked.c.g, stacked.c.key)
            .subquery()
        )
        source: Any = folded
        order: list[Any] = [folded.c.g]
        if self.by == "fair":
            f = t.fairs
            source = folded.outerjoin(f, f.c.id == folded.c.key)
            label: Any = f.c.title
            order += [f.c.starts_at.desc(), folded.c.key]
        elif self.by == "company":
            c = t.companies
            source = folded.outerjoin(c, c.c.id == folded.c.key)
            label = c.c.name
            order += [folded.c.attendees.desc(), c.c.name, folded.c.key]
        else:
            label = folded.c.key
            order += [folded.c.attendees.desc(), folded.c.key]
        return (
            sa.select(
                folded.c.key,
                label.label("label"),
                *[folded.c[name] for name in METRICS],
            )
            .select_from(source)
            .order_by(*order)
        )


async def report(
    conn: AsyncConnection,
    by: By,
    fair_ids: Sequence[int],
    school_id: int | None,
    now: datetime,
) -> list[ReportRow]:
    """The lines of a report on ``fair_ids``, the total last. ``school_id`` limits it to
    that school's students (None: every student). One statement."""
    query = _Query(conn, by, fair_ids, school_id, now)
    query.add_attendance()
    query.add_briefings()
    query.add_questions()
    query.add_queue()
    query.add_interviews()
    query.add_agreements()
    query.add_empty_keys()
    return await fetch_all_as(conn, query.statement(), ReportRow)


@dataclass(frozen=True, slots=True)
class ReportFair:
    id: int
    slug: str
    title: str


async def report_fairs(
    conn: AsyncConnection, school_id: int | None, guest: bool
) -> list[ReportFair]:
    """The fairs a report may cover, latest first: every fair (school_id None); a school's
    own fairs; with ``guest`` also those its students may enter (listed schools, open
    fairs)."""
    f, fs = t.fairs, t.fair_schools
    stmt = sa.select(f.c.id, f.c.slug, f.c.title)
    if school_id is not None:
        mine: Any = f.c.school_id == school_id
        if guest:
            listed = sa.select(fs.c.fair_id).where(fs.c.school_id == school_id)
            mine = sa.or_(
                mine, f.c.id.in_(listed), sa.and_(f.c.visibility == "open", f.c.published)
            )
        stmt = stmt.where(mine)
    return await fetch_all_as(conn, stmt.order_by(f.c.starts_at.desc(), f.c.id), ReportFair)
