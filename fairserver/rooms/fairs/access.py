"""Who may reach a fair: the one door both transports use (in the style of zulip's access_*).

Each function loads the fair with what its rules need (a FairAccess), asks
permissions.can, and raises NotFound for a missing fair and a forbidden one alike, so
ids and addresses cannot be probed. `right` may be one right or several, all needed.
"""

from __future__ import annotations

from fairserver.auth import Actor
from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.context import Services, database_of
from fairserver.rooms.errors import NotFound
from fairserver.store import fairs as store
from fairserver.store.db import Database

Rights = Right | tuple[Right, ...]


def require(actor: Actor, right: Rights, obj: object) -> None:
    """NotFound unless the actor has every right on obj (a value already loaded)."""
    for one in (right,) if isinstance(right, Right) else right:
        if not can(actor, one, obj):
            raise NotFound()


def _checked(actor: Actor, access: FairAccess | None, right: Rights) -> FairAccess:
    if access is None:
        raise NotFound()
    require(actor, right, access)
    return access


async def access_fair(
    source: Database | Services, actor: Actor, slug: str, right: Rights = Right.FAIR_VIEW
) -> FairAccess:
    """The fair at this address, when the actor has `right` on it."""
    async with database_of(source).connect() as conn:
        access = await store.fair_access(conn, slug)
    return _checked(actor, access, right)


async def access_fair_by_id(
    source: Database | Services, actor: Actor, fair_id: int, right: Rights = Right.FAIR_VIEW
) -> FairAccess:
    """The fair with this id, when the actor has `right` on it."""
    async with database_of(source).connect() as conn:
        access = await store.fair_access_by_id(conn, fair_id)
    return _checked(actor, access, right)


async def access_invitation(source: Database | Services, actor: Actor, slug: str) -> FairAccess:
    """A fair that invited the actor's company, for one of its recruiters to answer.

    An invitation is answered before the company takes part, so the fair need not be
    visible to the company yet; only managing the company is required.
    """
    company_id = actor.company_id
    if company_id is None or not can(actor, Right.COMPANY_MANAGE, company_id):
        raise NotFound()
    async with database_of(source).connect() as conn:
        access = await store.fair_access(conn, slug)
    if access is None or access.company_status(company_id) != "invited":
        raise NotFound()
    return access


async def visible_fairs(source: Database | Services, actor: Actor) -> list[FairAccess]:
    """Every fair the actor may see, newest first."""
    return [fa for fa in await every_fair(source) if can(actor, Right.FAIR_VIEW, fa)]


async def every_fair(source: Database | Services) -> list[FairAccess]:
    """Every fair with its access context, newest first: the caller decides with can()."""
    async with database_of(source).connect() as conn:
        return await store.all_fair_access(conn)
