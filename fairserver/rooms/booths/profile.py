"""Booths (B1): the profile a company shows in a fair, its logo, and joining fairs (F2)."""

from __future__ import annotations

import asyncio
import re
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fairserver.i18n import gettext as _
from fairserver.permissions import FairAccess
from fairserver.rooms.errors import Refused
from fairserver.rows import BoothDocumentRow, BoothJobRow, BoothRow, CompanyRow
from fairserver.store import booths as store
from fairserver.store import fairs as fair_store
from fairserver.store.booths import BoothChange
from fairserver.store.db import Database
from fairserver.text import Line, Text, clean

MAX_DOCUMENTS = 10
MAX_LOGO_BYTES = 512 * 1024
UPLOAD_PREFIX = "uploads/"
LOGO_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "svg": "image/svg+xml",
}
# Elements that run script or embed another document inside an SVG.
_SVG_FORBIDDEN = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}
_SCHEME_NOISE = re.compile(r"[\s\x00-\x1f]+")
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def web_url(value: str) -> str:
    """An absolute http(s) URL, or "" when the field was left empty."""
    value = clean(value)
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc or " " in value:
        raise ValueError(_("Enter a link that starts with http:// or https://."))
    return value


def link_href(url: str | None) -> str | None:
    """The URL when it is safe to put in an href (http/https only), else None."""
    try:
        return web_url(url or "") or None
    except ValueError:
        return None


WebUrl = Annotated[str, Field(max_length=500), AfterValidator(web_url)]


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DocumentRow(Form):
    title: Line = Field(min_length=1, max_length=200)
    url: WebUrl = Field(min_length=1)


class BoothForm(Form):
    tagline: Line = Field(default="", max_length=200)
    description_md: Text = Field(default="", max_length=20000)
    video_url: WebUrl = ""
    documents: list[DocumentRow] = Field(default_factory=list, max_length=MAX_DOCUMENTS)


class ApplyForm(Form):
    message: Text = Field(default="", max_length=1000)


def _svg_is_inert(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    lowered = text.lower()
    # No DTD at all: that rules out entity expansion ("billion laughs") and
    # external entities before the parser sees the document.
    if "<!doctype" in lowered or "<!entity" in lowered:
        return False
    try:
        root = ET.fromstring(text)  # noqa: S314 - DTDs refused above
    except ET.ParseError:
        return False
    if root.tag.rpartition("}")[2] != "svg":
        return False
    for element in root.iter():
        if element.tag.rpartition("}")[2].lower() in _SVG_FORBIDDEN:
            return False
        for name, value in element.attrib.items():
            if name.rpartition("}")[2].lower().startswith("on"):
                return False
            if "javascript:" in _SCHEME_NOISE.sub("", value).lower():
                return False
    return True


def logo_kind(data: bytes) -> str:
    """The logo's file extension, judged by its content; Refused when it is not allowed."""
    if not data:
        raise Refused("logo", _("The file is empty."), code="booth.logo_empty")
    if len(data) > MAX_LOGO_BYTES:
        raise Refused(
            "logo", _("The logo is too large: at most 512 KiB."), code="booth.logo_too_large"
        )
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if b"<svg" in data[:4096].lower():
        if _svg_is_inert(data):
            return "svg"
        raise Refused(
            "logo",
            _("This SVG contains scripts, event handlers or is not a valid SVG image."),
            code="booth.logo_unsafe",
        )
    raise Refused(
        "logo", _("The logo must be a PNG, JPEG, WebP or SVG image."), code="booth.logo_kind"
    )


@dataclass(frozen=True)
class LogoFile:
    path: Path
    content_type: str


def _inside(base: Path, name: str) -> Path | None:
    relative = PurePosixPath(name)
    if relative.is_absolute() or not relative.parts or ".." in relative.parts:
        return None
    root = base.resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def logo_file(booths_dir: Path, uploads_dir: Path, company_slug: str, logo: str) -> LogoFile | None:
    """Where a booth's logo lives, never outside the demo content or uploads directories."""
    if not logo or "\\" in logo or "\x00" in logo:
        return None
    kind = logo.rpartition(".")[2].lower()
    if kind not in LOGO_TYPES:
        return None
    if logo.startswith(UPLOAD_PREFIX):
        base, name = uploads_dir, logo.removeprefix(UPLOAD_PREFIX)
    elif _SLUG.fullmatch(company_slug):
        base, name = booths_dir / "companies" / company_slug, logo
    else:
        return None
    path = _inside(base, name)
    return None if path is None else LogoFile(path, LOGO_TYPES[kind])


def _write_upload(uploads_dir: Path, booth_id: int, kind: str, data: bytes) -> str:
    uploads_dir.mkdir(parents=True, exist_ok=True)
    name = f"{booth_id}-{secrets.token_hex(8)}.{kind}"
    (uploads_dir / name).write_bytes(data)
    return name


def _remove_upload(uploads_dir: Path, logo: str) -> None:
    if logo.startswith(UPLOAD_PREFIX):
        path = _inside(uploads_dir, logo.removeprefix(UPLOAD_PREFIX))
        if path is not None:
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class LogoChange:
    uploads_dir: Path
    data: bytes | None = None  # a new, already checked logo
    remove: bool = False


async def save_booth(db: Database, booth: BoothRow, form: BoothForm, logo: LogoChange) -> None:
    """Saves the profile, documents and logo together; the old uploaded logo goes after."""
    new_name, new_logo = None, None
    if logo.data is not None:
        kind = logo_kind(logo.data)
        new_name = await asyncio.to_thread(
            _write_upload, logo.uploads_dir, booth.id, kind, logo.data
        )
        new_logo = UPLOAD_PREFIX + new_name
    elif logo.remove:
        new_logo = ""
    change = BoothChange(
        tagline=form.tagline,
        description_md=form.description_md,
        video_url=form.video_url,
        logo=new_logo,
    )
    try:
        async with db.begin() as conn:
            await store.update_booth(conn, booth.id, change)
            await store.replace_documents(
                conn, booth.id, [(d.title, d.url) for d in form.documents]
            )
    except BaseException:
        if new_name is not None:
            await asyncio.to_thread(_remove_upload, logo.uploads_dir, UPLOAD_PREFIX + new_name)
        raise
    if new_logo is not None and booth.logo != new_logo:
        await asyncio.to_thread(_remove_upload, logo.uploads_dir, booth.logo)


async def apply_to_fair(db: Database, fair_id: int, company_id: int, message: str) -> None:
    async with db.begin() as conn:
        status = await fair_store.participation_status(conn, fair_id, company_id)
        if status not in {None, "invited", "withdrawn"}:
            raise Refused(
                "form",
                _("Your company already takes part in this fair."),
                code="fair.already_participating",
            )
        await fair_store.set_participation(conn, fair_id, company_id, "applied", message)


async def respond_to_invitation(db: Database, fair_id: int, company_id: int, accept: bool) -> None:
    """Accepting opens the company's booth at once; declining withdraws."""
    async with db.begin() as conn:
        status = await fair_store.participation_status(conn, fair_id, company_id)
        if status != "invited":
            raise Refused(
                "form",
                _("There is no open invitation for your company."),
                code="fair.no_invitation",
            )
        new_status = "approved" if accept else "withdrawn"
        await fair_store.set_participation(conn, fair_id, company_id, new_status)


async def read_logo(
    booths_dir: Path, uploads_dir: Path, company_slug: str, logo: str
) -> tuple[bytes, str] | None:
    """(content, content type) of a booth's logo, or None when there is none to serve."""

    def read() -> tuple[bytes, str] | None:
        found = logo_file(booths_dir, uploads_dir, company_slug, logo)
        return None if found is None else (found.path.read_bytes(), found.content_type)

    return await asyncio.to_thread(read)


@dataclass(frozen=True)
class CompanyFairs:
    company: CompanyRow | None
    # Every fair with its access context, newest first: the page sorts them by status.
    fairs: list[FairAccess]
    booth_ids: dict[int, int]  # fair_id -> the company's booth there


async def company_fairs(db: Database, company_id: int) -> CompanyFairs:
    async with db.connect() as conn:
        return CompanyFairs(
            company=await store.company(conn, company_id),
            fairs=await fair_store.all_fair_access(conn),
            booth_ids=await store.company_booths(conn, company_id),
        )


async def documents(db: Database, booth_id: int) -> list[BoothDocumentRow]:
    async with db.connect() as conn:
        return await store.documents(conn, booth_id)


async def booth_jobs(
    db: Database, booth_id: int, viewer_id: int | None = None
) -> list[BoothJobRow]:
    """The booth's jobs, newest first, each saying whether the viewer is interested."""
    async with db.connect() as conn:
        return await store.booth_jobs(conn, booth_id, viewer_id)
