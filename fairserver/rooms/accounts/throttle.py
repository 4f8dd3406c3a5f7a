"""Log-in throttling: each failed attempt spends a token from three buckets in the live
state (shared by every worker through Redis). A bucket found empty blocks its key until a
token has come back, and a blocked attempt is refused before the password is hashed, so a
guesser neither costs us argon2 time nor gets an answer, the right password included.
Successful log-ins spend nothing.

- per account and address: a few tries, then one a minute (someone mistyping keeps going);
- per account from anywhere: slows a guesser spread over many addresses, loosely enough
  that an attacker elsewhere cannot lock the owner out for long;
- per address: generous, because a campus lab puts hundreds of students behind one NAT.
"""

from __future__ import annotations

import hashlib
import hmac
import math

from fairserver.i18n import ngettext
from fairserver.rooms.errors import ServiceError
from fairserver.store.live import LiveState

# (burst, tokens per second). Module constants so tests can see and shorten them.
PAIR = (5, 1 / 60)
ACCOUNT = (20, 1 / 10)
ADDRESS = (60, 1.0)


class LoginThrottled(ServiceError):
    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            "account.login_throttled",
            ngettext(
                "Too many log-in attempts. Wait %(minutes)d minute, then try again.",
                "Too many log-in attempts. Wait %(minutes)d minutes, then try again.",
                minutes,
            )
            % {"minutes": minutes},
            retry_after=retry_after,
        )
        self.retry_after = retry_after


def _account(secret: str, email: str) -> str:
    # An HMAC keyed with FAIRSERVER_SECRET_KEY: the live store never holds the addresses
    # people typed, nor hashes anyone could test guesses against without the key. Every
    # worker must share the key for the counters to be shared (README, scale-out).
    key, typed = secret.encode("utf-8"), email.strip().lower().encode("utf-8")
    return hmac.new(key, typed, hashlib.sha256).hexdigest()[:32]


def _buckets(secret: str, email: str, address: str) -> tuple[tuple[str, tuple[int, float]], ...]:
    account = _account(secret, email)
    return (
        (f"login:pair:{account}:{address}", PAIR),
        (f"login:account:{account}", ACCOUNT),
        (f"login:address:{address}", ADDRESS),
    )


async def check_login_allowed(live: LiveState, secret: str, email: str, address: str) -> None:
    """Raises LoginThrottled while any of the attempt's keys is blocked."""
    for key, (_burst, rate) in _buckets(secret, email, address):
        if await live.get(f"{key}:blocked") is not None:
            raise LoginThrottled(retry_after=math.ceil(1 / rate))


async def spend_failed_login(live: LiveState, secret: str, email: str, address: str) -> None:
    """A wrong password: one token from each bucket; an empty one blocks its key."""
    for key, (burst, rate) in _buckets(secret, email, address):
        if not await live.allow(key, rate, burst):
            await live.put(f"{key}:blocked", "1", ttl=1 / rate)
