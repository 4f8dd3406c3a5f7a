"""Who may reach a briefing: its rules, and the access functions both transports use.

A briefing page (agenda, replay) shows an approved company's briefing to whoever may see
the fair, and every briefing to the fair's managers. The live room adds the briefing's
own company (its recruiters moderate it). Each access function loads the fair and the
briefing, asks the rule, and raises NotFound for missing and forbidden alike.
"""

from __future__ import annotations

from fairserver.auth import Actor
from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.context import Services, database_of
from fairserver.rooms.errors import NotFound
from fairserver.rooms.fairs.access import access_fair
from fairserver.rows import BriefingRow
from fairserver.store import briefing_live as live_store
from fairserver.store import briefings as store
from fairserver.store import fairs as fair_store
from fairserver.store.briefing_live import LiveBriefingRow
from fairserver.store.db import Database

# The rules take the briefing's company id: all they need of it, whichever row it came in.


def is_moderator(actor: Actor, fa: FairAccess, company_id: int) -> bool:
    if can(actor, Right.FAIR_MANAGE, fa):
        return True
    return (
        actor.role == "recruiter"
        and actor.company_id == company_id
        and can(actor, Right.FAIR_VIEW, fa)
    )


def may_view(actor: Actor, fa: FairAccess, company_id: int) -> bool:
    """The live room: approved companies' briefings, and every one for its moderators."""
    if not can(actor, Right.FAIR_VIEW, fa):
        return False
    shown = fa.company_status(company_id) == "approved"
    return shown or is_moderator(actor, fa, company_id)


def briefing_shown(actor: Actor, fa: FairAccess, company_id: int) -> bool:
    """The briefing page (agenda, replay): in a fair the caller may see, an approved
    company's briefing, or any briefing for the fair's managers."""
    if not can(actor, Right.FAIR_VIEW, fa):
        return False
    return fa.company_status(company_id) == "approved" or can(actor, Right.FAIR_MANAGE, fa)


async def access_briefing(
    source: Database | Services,
    actor: Actor,
    fair_slug: str,
    briefing_id: int,
    *,
    moderate: bool = False,
) -> tuple[FairAccess, BriefingRow]:
    """The briefing of this fair (with company_name and presenters) as its page shows it;
    with moderate=True, only for its moderators (the Q&A export names askers)."""
    fa = await access_fair(source, actor, fair_slug)
    async with database_of(source).connect() as conn:
        briefing = await store.fair_briefing(conn, fa.id, briefing_id)
    rule = is_moderator if moderate else briefing_shown
    if briefing is None or not rule(actor, fa, briefing.company_id):
        raise NotFound()
    return fa, briefing


async def access_live_briefing(
    source: Database | Services, actor: Actor, fair_id: int, briefing_id: int
) -> tuple[FairAccess, LiveBriefingRow]:
    """The briefing of the fair a socket joined, for someone who may take part live."""
    async with database_of(source).connect() as conn:
        briefing = await live_store.briefing_row(conn, briefing_id)
        if briefing is None or briefing.fair_id != fair_id:
            raise NotFound()
        fa = await fair_store.fair_access_by_id(conn, fair_id)
    if fa is None or not may_view(actor, fa, briefing.company_id):
        raise NotFound()
    return fa, briefing


async def visible_briefings(
    source: Database | Services, actor: Actor, fa: FairAccess
) -> list[BriefingRow]:
    """The fair's briefings the caller may see, in time order (fa: reached with access_fair)."""
    async with database_of(source).connect() as conn:
        rows = await store.fair_briefings(conn, fa.id)
    return [b for b in rows if briefing_shown(actor, fa, b.company_id)]
