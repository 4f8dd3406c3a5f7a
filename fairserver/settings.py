"""One frozen Settings object, read from FAIRSERVER_* environment variables."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    pass


def _bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be a boolean, got {value!r}")


def _int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {value!r}") from exc
    if not low <= number <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {number}")
    return number


def _origin(value: str, name: str) -> str:
    """scheme://host[:port], nothing after it: what a browser sends as Origin."""
    origin = value.strip().rstrip("/")
    if not re.fullmatch(
        r"https?://[A-Za-z0-9.-]+(:\d{1,5})?|https?://\[[0-9A-Fa-f:]+\](:\d{1,5})?", origin
    ):
        raise SettingsError(f"{name} must look like https://fair.example.edu, got {value!r}")
    return origin.lower()


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _ice_urls(value: str, name: str, schemes: tuple[str, ...]) -> tuple[str, ...]:
    urls = _list(value)
    for url in urls:
        if not url.startswith(schemes):
            raise SettingsError(f"{name}: {url!r} must start with {' or '.join(schemes)}")
    return urls


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = "sqlite+aiosqlite:///./fairserver.db"
    redis_url: str | None = None
    # Keys the HMAC that names an account in the log-in throttle's counters (the live
    # store never holds a typed e-mail). Sessions are server-side rows and need no key.
    # Every worker of a deployment must share it, or their counters are apart.
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # Cookies get the Secure flag. Turn on behind TLS.
    secure_cookies: bool = False
    session_ttl_hours: int = 24 * 14
    # The address people reach the server at, e.g. "https://fair.example.edu". Set, it is
    # the server's own origin, whatever Host header a request carries (websocket and form
    # origins, the CSP's websocket source). Unset (a laptop demo), the request's host is.
    public_origin: str | None = None
    # Origins allowed for websockets and state-changing requests, besides the
    # server's own. Example: "https://fair.example.edu".
    allowed_origins: tuple[str, ...] = ()
    # Proxy addresses whose X-Forwarded-* headers we believe.
    trusted_proxies: tuple[str, ...] = ()
    booths_dir: Path = PROJECT_ROOT / "booths"
    web_dir: Path = PROJECT_ROOT / "web"
    default_locale: str = "en"
    log_level: str = "INFO"
    # /metrics answers callers on this machine (loopback, after X-Forwarded-For from a
    # trusted proxy is applied), and anyone presenting this as a Bearer token.
    metrics_token: str | None = None
    # Argon2 cost. Tests lower it; production keeps argon2-cffi's defaults.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    # ICE for WebRTC (fairserver/webrtc/ice.py). STUN/TURN URLs go to browsers with their
    # room token; with a TURN secret (coturn's use-auth-secret / static-auth-secret) each
    # user gets a time-limited credential minted per request.
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_ttl_seconds: int = 600
    # Where briefing and interview recordings are written (P7, I3).
    recordings_dir: Path = Path("./recordings")
    # Uploaded booth logos (outside web/ and booths/, so nothing uploaded is served as a
    # static file). With several machines, point every one at the same shared directory.
    uploads_dir: Path = PROJECT_ROOT / "var" / "uploads"
    # Interviews (I1, I2, I4). A slot freed for the waitlist is held this long for the
    # student offered it; the reminder goes this long before a booked slot; the room's
    # soft wrap-up warning this long before its end; a candidate who has not joined this
    # long after the start is a no-show.
    waitlist_offer_minutes: int = 10
    reminder_minutes: int = 10
    wrap_up_minutes: int = 5
    no_show_minutes: int = 10

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            return env.get(f"FAIRSERVER_{name}")

        kwargs: dict[str, object] = {}
        if (v := get("HOST")) is not None:
            kwargs["host"] = v
        if (v := get("PORT")) is not None:
            kwargs["port"] = _int(v, "FAIRSERVER_PORT", 0, 65535)
        if (v := get("DATABASE_URL")) is not None:
            if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
                raise SettingsError(
                    "FAIRSERVER_DATABASE_URL must start with sqlite+aiosqlite:// "
                    "or postgresql+asyncpg://"
                )
            kwargs["database_url"] = v
        if (v := get("REDIS_URL")) is not None:
            kwargs["redis_url"] = v or None
        if (v := get("SECRET_KEY")) is not None:
            if len(v) < 16:
                raise SettingsError("FAIRSERVER_SECRET_KEY must be at least 16 characters")
            kwargs["secret_key"] = v
        if (v := get("SECURE_COOKIES")) is not None:
            kwargs["secure_cookies"] = _bool(v, "FAIRSERVER_SECURE_COOKIES")
        if (v := get("SESSION_TTL_HOURS")) is not None:
            kwargs["session_ttl_hours"] = _int(v, "FAIRSERVER_SESSION_TTL_HOURS", 1, 24 * 365)
        if (v := get("PUBLIC_ORIGIN")) is not None:
            kwargs["public_origin"] = _origin(v, "FAIRSERVER_PUBLIC_ORIGIN") if v else None
        if (v := get("ALLOWED_ORIGINS")) is not None:
            kwargs["allowed_origins"] = _list(v)
        if (v := get("TRUSTED_PROXIES")) is not None:
            kwargs["trusted_proxies"] = _list(v)
        if (v := get("BOOTHS_DIR")) is not None:
            kwargs["booths_dir"] = Path(v)
        if (v := get("DEFAULT_LOCALE")) is not None:
            kwargs["default_locale"] = v
        if (v := get("LOG_LEVEL")) is not None:
            if v.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
                raise SettingsError(
                    f"FAIRSERVER_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {v!r}"
                )
            kwargs["log_level"] = v.upper()
        if (v := get("METRICS_TOKEN")) is not None:
            if v and len(v) < 16:
                raise SettingsError("FAIRSERVER_METRICS_TOKEN must be at least 16 characters")
            kwargs["metrics_token"] = v or None
        if (v := get("ARGON2_TIME_COST")) is not None:
            kwargs["argon2_time_cost"] = _int(v, "FAIRSERVER_ARGON2_TIME_COST", 1, 10)
        if (v := get("ARGON2_MEMORY_KIB")) is not None:
            kwargs["argon2_memory_kib"] = _int(v, "FAIRSERVER_ARGON2_MEMORY_KIB", 64, 1 << 21)
        if (v := get("STUN_URLS")) is not None:
            kwargs["stun_urls"] = _ice_urls(v, "FAIRSERVER_STUN_URLS", ("stun:", "stuns:"))
        if (v := get("TURN_URLS")) is not None:
            kwargs["turn_urls"] = _ice_urls(v, "FAIRSERVER_TURN_URLS", ("turn:", "turns:"))
        if (v := get("TURN_SECRET")) is not None:
            if v and len(v) < 16:
                raise SettingsError("FAIRSERVER_TURN_SECRET must be at least 16 characters")
            kwargs["turn_secret"] = v or None
        if (v := get("TURN_TTL_SECONDS")) is not None:
            kwargs["turn_ttl_seconds"] = _int(v, "FAIRSERVER_TURN_TTL_SECONDS", 60, 86400)
        if (v := get("RECORDINGS_DIR")) is not None:
            kwargs["recordings_dir"] = Path(v)
        if (v := get("UPLOADS_DIR")) is not None:
            kwargs["uploads_dir"] = Path(v)
        for name, high in (
            ("WAITLIST_OFFER_MINUTES", 24 * 60),
            ("REMINDER_MINUTES", 24 * 60),
            ("WRAP_UP_MINUTES", 60),
            ("NO_SHOW_MINUTES", 120),
        ):
            if (v := get(name)) is not None:
                kwargs[name.lower()] = _int(v, f"FAIRSERVER_{name}", 1, high)
        if kwargs.get("turn_urls") and not kwargs.get("turn_secret"):
            raise SettingsError("FAIRSERVER_TURN_URLS needs FAIRSERVER_TURN_SECRET")
        return cls(**kwargs)  # type: ignore[arg-type]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
