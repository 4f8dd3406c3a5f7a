"""The booth hall, booth pages, logos and booth editing (B1)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from pydantic import ValidationError

from fairserver.http.fairs.pages import visible_fair
from fairserver.http.kit import (
    actor_of,
    not_found,
    render,
    require_login,
    validation_messages,
)
from fairserver.i18n import gettext as _
from fairserver.keys import DB, SETTINGS
from fairserver.permissions import FairAccess, Right, can
from fairserver.rooms.booths import profile as booths
from fairserver.rooms.booths.access import access_booth
from fairserver.rooms.errors import NotFound, Refused
from fairserver.rooms.fairs import halls as fair_halls
from fairserver.rows import BoothDocumentRow, BoothRow
from fairserver.settings import Settings

routes = web.RouteTableDef()

BOOTH = "/fairs/{slug}/booths/{booth_id:[0-9]{1,9}}"
# A logo is shown as an image, but opened on its own an SVG is a document: this
# keeps any script in it from running and anything from loading.
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
PROFILE_FIELDS = ("tagline", "description_md", "video_url")
DOC_FIELD = re.compile(r"doc_(title|url)_([0-9])")


def uploads_dir(settings: Settings) -> Path:
    """Uploaded logos, under FAIRSERVER_UPLOADS_DIR."""
    return settings.uploads_dir / "logos"


async def booth_of(request: web.Request, right: Right) -> tuple[FairAccess, BoothRow]:
    """The fair and the booth named in the URL, when the caller has `right` on the booth;
    a booth of another fair is missing."""
    found = await access_booth(
        request.app[DB],
        actor_of(request),
        request.match_info["slug"],
        int(request.match_info["booth_id"]),
        right,
    )
    return found.fair, found.row


async def editable_booth(request: web.Request) -> tuple[FairAccess, BoothRow]:
    """The booth, when the caller may edit it (its company's recruiters, admins)."""
    require_login(request)
    return await booth_of(request, Right.BOOTH_EDIT)


@routes.get("/fairs/{slug}/booths")
async def hall(request: web.Request) -> web.Response:
    access = await visible_fair(request, request.match_info["slug"])
    booth_rows = await fair_halls.booths(request.app[DB], access.id)
    return render(request, "booths.html", {"fair": access.fair, "booths": booth_rows})


@routes.get(BOOTH)
async def booth_page(request: web.Request) -> web.Response:
    access, booth = await booth_of(request, Right.BOOTH_VIEW)
    actor = actor_of(request)
    documents = await booths.documents(request.app[DB], booth.id)
    jobs = await booths.booth_jobs(request.app[DB], booth.id, actor.user_id)
    links = [{"title": d.title, "href": booths.link_href(d.url)} for d in documents]
    return render(
        request,
        "booth.html",
        {
            "fair": access.fair,
            "booth": booth,
            "documents": [d for d in links if d["href"]],
            "video_href": booths.link_href(booth.video_url),
            "website_href": booths.link_href(booth.company_website),
            "jobs": jobs,
            "can_edit": can(actor, Right.BOOTH_EDIT, (access, booth.company_id)),
        },
    )


@routes.get(BOOTH + "/logo")
async def logo(request: web.Request) -> web.Response:
    try:  # a logo is shown to those who may see the booth, and to those who edit it
        _access, booth = await booth_of(request, Right.BOOTH_VIEW)
    except NotFound:
        _access, booth = await booth_of(request, Right.BOOTH_EDIT)
    settings = request.app[SETTINGS]
    found = await booths.read_logo(
        settings.booths_dir, uploads_dir(settings), booth.company_slug, booth.logo
    )
    if found is None:
        not_found()
    body, content_type = found
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Content-Security-Policy": LOGO_CSP, "Cache-Control": "private, max-age=300"},
    )


def _edit_values(booth: BoothRow, documents: list[BoothDocumentRow]) -> dict[str, str]:
    values = {name: str(getattr(booth, name)) for name in PROFILE_FIELDS}
    for i, doc in enumerate(documents[: booths.MAX_DOCUMENTS]):
        values[f"doc_title_{i}"] = doc.title
        values[f"doc_url_{i}"] = doc.url
    return values


def _document_rows(values: dict[str, str]) -> int:
    """How many document rows the form shows: the filled ones and two blank ones."""
    used = [int(m.group(2)) for k, v in values.items() if v and (m := DOC_FIELD.fullmatch(k))]
    return min(booths.MAX_DOCUMENTS, max(3, (max(used) + 3) if used else 0))


async def _render_edit(
    request: web.Request,
    access: FairAccess,
    booth: BoothRow,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> web.Response:
    documents = await booths.documents(request.app[DB], booth.id)
    jobs = await booths.booth_jobs(request.app[DB], booth.id)
    values = values if values is not None else _edit_values(booth, documents)
    return render(
        request,
        "booth_edit.html",
        {
            "fair": access.fair,
            "booth": booth,
            "values": values,
            "errors": errors or {},
            "doc_rows": _document_rows(values),
            "jobs": jobs,
            "saved": "saved" in request.query,
        },
        status=400 if errors else 200,
    )


@routes.get(BOOTH + "/edit")
async def edit_page(request: web.Request) -> web.Response:
    access, booth = await editable_booth(request)
    return await _render_edit(request, access, booth)


def _document_payload(raw: dict[str, str]) -> tuple[list[dict[str, str]], list[int]]:
    """The filled document rows, and which form row each came from."""
    documents, rows = [], []
    for i in range(booths.MAX_DOCUMENTS):
        title, url = raw.get(f"doc_title_{i}", ""), raw.get(f"doc_url_{i}", "")
        if title.strip() or url.strip():
            documents.append({"title": title, "url": url})
            rows.append(i)
    return documents, rows


def _booth_form(raw: dict[str, str]) -> tuple[booths.BoothForm | None, dict[str, str]]:
    documents, rows = _document_payload(raw)
    payload: dict[str, Any] = {k: raw[k] for k in PROFILE_FIELDS if k in raw}
    payload["documents"] = documents
    try:
        return booths.BoothForm.model_validate(payload), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for loc, message in validation_messages(exc, nested=True).items():
            parts = loc.split(".")
            if parts[0] == "documents" and len(parts) == 3:
                loc = f"doc_{parts[2]}_{rows[int(parts[1])]}"
            errors.setdefault(loc, message)
        return None, errors


async def _uploaded_logo(form: MultiDictProxy[Any]) -> bytes | None:
    upload = form.get("logo")
    if not isinstance(upload, web.FileField):
        return None
    data: bytes = await asyncio.to_thread(upload.file.read, booths.MAX_LOGO_BYTES + 1)
    return data or None


@routes.post(BOOTH + "/edit")
async def save(request: web.Request) -> web.Response:
    access, booth = await editable_booth(request)
    posted = await request.post()
    raw = {k: v for k, v in posted.items() if isinstance(v, str) and k != "csrf_token"}
    form, errors = _booth_form(raw)
    known = {*PROFILE_FIELDS, "remove_logo"}
    if any(k not in known and not DOC_FIELD.fullmatch(k) for k in raw):
        errors["form"] = _("Unexpected field.")
    logo_data = await _uploaded_logo(posted)
    if logo_data is not None:
        try:
            booths.logo_kind(logo_data)
        except Refused as refused:
            errors[refused.field] = refused.message
    if form is None or errors:
        return await _render_edit(request, access, booth, raw, errors)
    change = booths.LogoChange(
        uploads_dir(request.app[SETTINGS]), logo_data, remove="remove_logo" in raw
    )
    await booths.save_booth(request.app[DB], booth, form, change)
    raise web.HTTPSeeOther(f"/fairs/{access.fair.slug}/booths/{booth.id}/edit?saved=1")
