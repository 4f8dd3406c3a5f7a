"""Translated names for stored codes (degrees, roles), shared by every template."""

from __future__ import annotations

from fairserver.i18n import gettext as _


def degree_choices() -> list[tuple[str, str]]:
    return [
        ("secondary", _("Secondary vocational")),
        ("diploma", _("3-year college diploma")),
        ("bachelor", _("Bachelor")),
        ("master", _("Master")),
        ("doctorate", _("Doctorate")),
    ]


def degree_label(code: str) -> str:
    return dict(degree_choices()).get(code, code)


def role_label(code: str) -> str:
    names = {
        "student": _("Student"),
        "recruiter": _("Recruiter"),
        "organiser": _("Organiser"),
        "admin": _("Administrator"),
    }
    return names.get(code, code)
