"""Passwords, server-side sessions and the Actor every request and socket carries.

Sessions are rows, not signed cookies: logging out, removing a recruiter or
banning a student ends their sessions at once, which a signed cookie cannot do.
The cookie holds a random token; the table holds only its sha256.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from fairserver.clock import utcnow
from fairserver.store import tables as t
from fairserver.store.db import Database

SESSION_COOKIE = "fs_session"


@dataclass(frozen=True)
class Actor:
    """Who is calling. Anonymous callers have user_id None and role 'anonymous'."""

    user_id: int | None = None
    role: str = "anonymous"
    display_name: str = ""
    school_id: int | None = None
    company_id: int | None = None
    verified: bool = False
    locale: str | None = None
    csrf_token: str = ""
    session_hash: str = ""

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


ANONYMOUS = Actor()


class Passwords:
    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        # Verifying against this keeps an unknown e-mail as slow as a wrong password.
        self._dummy = self._hasher.hash(secrets.token_hex(8))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(stored or self._dummy, password) and stored is not None
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_session(db: Database, user_id: int, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with db.begin() as conn:
        await conn.execute(
            t.sessions.insert().values(
                token_hash=token_hash(token),
                user_id=user_id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + ttl,
            )
        )
    return token


async def end_session(db: Database, token: str) -> None:
    async with db.begin() as conn:
        await conn.execute(t.sessions.delete().where(t.sessions.c.token_hash == token_hash(token)))


async def end_user_sessions(db: Database, user_id: int) -> None:
    async with db.begin() as conn:
        await conn.execute(t.sessions.delete().where(t.sessions.c.user_id == user_id))


async def resolve_session(db: Database, token: str, now: datetime | None = None) -> Actor | None:
    now = now or utcnow()
    u, s, p = t.users, t.sessions, t.student_profiles
    stmt = (
        sa.select(
            u.c.id,
            u.c.role,
            u.c.display_name,
            u.c.school_id,
            u.c.company_id,
            u.c.locale,
            s.c.csrf_token,
            s.c.token_hash,
            p.c.verified_at,
        )
        .select_from(s.join(u, u.c.id == s.c.user_id).outerjoin(p, p.c.user_id == u.c.id))
        .where(s.c.token_hash == token_hash(token))
        .where(s.c.expires_at > now)
        .where(u.c.disabled_at.is_(None))
    )
    async with db.connect() as conn:
        row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        return None
    return Actor(
        user_id=row["id"],
        role=row["role"],
        display_name=row["display_name"],
        school_id=row["school_id"],
        company_id=row["company_id"],
        verified=row["verified_at"] is not None,
        locale=row["locale"],
        csrf_token=row["csrf_token"],
        session_hash=row["token_hash"],
    )


async def live_session_hashes(
    db: Database, hashes: set[str], now: datetime | None = None
) -> set[str]:
    """Which of these sessions still stand: not logged out, not expired, user not disabled."""
    if not hashes:
        return set()
    now = now or utcnow()
    s, u = t.sessions, t.users
    stmt = (
        sa.select(s.c.token_hash)
        .join(u, u.c.id == s.c.user_id)
        .where(s.c.token_hash.in_(sorted(hashes)), s.c.expires_at > now, u.c.disabled_at.is_(None))
    )
    async with db.connect() as conn:
        return set((await conn.execute(stmt)).scalars())
