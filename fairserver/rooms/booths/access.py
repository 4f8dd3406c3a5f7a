"""Who may reach a booth and its jobs: the one check both transports use.

The booth page (http/booths/pages.py) and every booth.* socket event (socket/booths/
live.py) ask the same question: is this booth in that fair, and may the caller see (or
edit) it? Each function loads the fair and the booth, asks permissions.can, and raises
NotFound for missing and forbidden alike. `right` may be one right or several, all needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from fairserver.auth import Actor
from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.booths.live import Booth
from fairserver.rooms.context import Services, database_of
from fairserver.rooms.errors import NotFound
from fairserver.rooms.fairs.access import Rights, access_fair, require
from fairserver.rows import BoothRow, JobDetail, JobRow
from fairserver.store import applications as application_store
from fairserver.store import booths as store
from fairserver.store import fairs as fair_store
from fairserver.store import job_search
from fairserver.store.applications import CompanyJobRow
from fairserver.store.db import Database


@dataclass(frozen=True)
class BoothAccess:
    """A booth with its fair: what the booth rules (and the pages) need."""

    fair: FairAccess
    row: BoothRow

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def booth(self) -> Booth:
        """The booth as the live rooms know it (presence, chat, queue)."""
        return Booth(
            id=self.id,
            fair_id=self.fair.id,
            company_id=self.row.company_id,
            company_name=self.row.company_name,
        )


def _checked(
    actor: Actor, access: FairAccess | None, row: BoothRow | None, right: Rights
) -> BoothAccess:
    if access is None or row is None:
        raise NotFound()
    require(actor, right, (access, row.company_id))
    return BoothAccess(access, row)


async def access_booth(
    source: Database | Services,
    actor: Actor,
    fair_slug: str,
    booth_id: int,
    right: Rights = Right.BOOTH_VIEW,
) -> BoothAccess:
    """The booth in the fair at this address; a booth of another fair is missing."""
    async with database_of(source).connect() as conn:
        access = await fair_store.fair_access(conn, fair_slug)
        row = None if access is None else await store.booth_in_fair(conn, access.id, booth_id)
    return _checked(actor, access, row, right)


async def access_booth_by_id(
    source: Database | Services,
    actor: Actor,
    fair_id: int,
    booth_id: int,
    right: Rights = Right.BOOTH_VIEW,
) -> BoothAccess:
    """As access_booth, for the fair with this id (the one a socket joined)."""
    async with database_of(source).connect() as conn:
        access = await fair_store.fair_access_by_id(conn, fair_id)
        row = None if access is None else await store.booth_in_fair(conn, fair_id, booth_id)
    return _checked(actor, access, row, right)


async def access_job(
    source: Database | Services, actor: Actor, fair_slug: str, job_id: int
) -> tuple[FairAccess, JobDetail]:
    """A job of a fair the caller may see, at a booth the caller may see."""
    access = await access_fair(source, actor, fair_slug)
    async with database_of(source).connect() as conn:
        job = await job_search.job_in_fair(conn, access.id, job_id, actor.user_id)
    if job is None:
        raise NotFound()
    require(actor, Right.BOOTH_VIEW, (access, job.company_id))
    return access, job


async def access_booth_job(
    source: Database | Services,
    actor: Actor,
    fair_slug: str,
    booth_id: int,
    job_id: int,
    right: Rights = Right.BOOTH_EDIT,
) -> tuple[BoothAccess, JobRow]:
    """A job posted at a booth the caller has `right` on (editing, by default)."""
    found = await access_booth(source, actor, fair_slug, booth_id, right)
    async with database_of(source).connect() as conn:
        job = await store.job_in_booth(conn, found.id, job_id)
    if job is None:
        raise NotFound()
    return found, job


async def access_company_job(
    source: Database | Services, actor: Actor, job_id: int
) -> CompanyJobRow:
    """A job whose applications the caller may read: a recruiter of the job's company
    (Right.COMPANY_HIRE). Another company's recruiter gets the NotFound of a missing job."""
    async with database_of(source).connect() as conn:
        job = await application_store.company_job(conn, job_id)
    if job is None or not can(actor, Right.COMPANY_HIRE, job.company_id):
        raise NotFound()
    return job


async def closed_booths(source: Database | Services, booth_ids: set[int]) -> set[int]:
    """Booths nobody may stay in any more: removed, or their company rejected or withdrawn
    from the fair. The socket layer sweeps its connections out of them."""
    async with database_of(source).connect() as conn:
        return await store.closed_booths(conn, booth_ids)
