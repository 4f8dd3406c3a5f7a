"""An intent agreement's text (I5): rendered from its fields, the same every time.

The text is what the student is shown, what its hash covers and what the school
countersigns, so it depends on the fields alone: not on who sends it, who reads it or
in which language their screen is. That is why it is one fixed bilingual template
(Chinese, then English) and not gettext, which follows the viewer (decisions §25).

Policy clauses come from the policy hall: a page whose front matter declares
`[agreement_clause]` with `text` and `min_term_years` adds its clause to every
agreement whose term is at least that many years (booths/policy/*.md). The Chinese
page's clause goes in the Chinese part; without one, the English clause serves both.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from fairserver.rooms.fairs.policy import CHINESE, ENGLISH, PolicyLibrary

MAX_CLAUSE = 4000


@dataclass(frozen=True, slots=True)
class Clause:
    """One policy page's agreement clause, in both languages."""

    page: str
    min_term_years: int
    english: str
    chinese: str


@dataclass(frozen=True, slots=True)
class AgreementTerms:
    company: str
    student: str  # the real name on the student's profile
    school: str
    position: str
    location: str
    salary: int  # monthly, in yuan
    start_date: date
    term_years: int


def _clause_of(meta: dict[str, object]) -> tuple[str, int] | None:
    """(text, minimum term) of a page's front matter, or None when it declares none."""
    declared = meta.get("agreement_clause")
    if not isinstance(declared, dict):
        return None
    text, years = declared.get("text"), declared.get("min_term_years", 1)
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_CLAUSE:
        return None
    if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 10:
        return None
    return " ".join(text.split()), years


def clauses_of(library: PolicyLibrary) -> list[Clause]:
    """Every clause the policy pages declare, by page name (the English page decides
    whether there is one and its minimum term)."""
    found = []
    for name, versions in sorted(library.load().items()):
        english = _clause_of(versions[ENGLISH].meta)
        if english is None:
            continue
        chinese_page = versions.get(CHINESE)
        chinese = _clause_of(chinese_page.meta) if chinese_page else None
        text, years = english
        found.append(Clause(name, years, text, chinese[0] if chinese else text))
    return found


@lru_cache(maxsize=8)
def _library(directory: Path) -> PolicyLibrary:
    return PolicyLibrary(directory)


def policy_clauses(booths_dir: Path) -> list[Clause]:
    """The clauses of the deployment's policy hall (read once per process)."""
    return clauses_of(_library(booths_dir / "policy"))


def applicable(clauses: list[Clause], term_years: int) -> list[Clause]:
    return [c for c in clauses if term_years >= c.min_term_years]


def subsidy_text(clauses: list[Clause]) -> str:
    """What agreements.subsidy_text keeps: the included clauses, Chinese then English."""
    return "\n\n".join(f"{c.chinese}\n{c.english}" for c in clauses)


def render(terms: AgreementTerms, clauses: list[Clause]) -> str:
    """The agreement's text. Only ``clauses`` that apply to the term may be given."""
    t = terms
    start = t.start_date.isoformat()
    salary = f"{t.salary:,}"
    chinese = [
        "就业意向协议",
        "",
        f"用人单位（甲方）：{t.company}",
        f"毕业生（乙方）：{t.student}",
        f"学校：{t.school}",
        "",
        f"一、甲方拟聘用乙方担任{t.position}，工作地点为{t.location}。",
        f"二、月薪为人民币{salary}元。",
        f"三、乙方于{start}起到岗，合同期限为{t.term_years}年。",
        "四、本协议为就业意向协议，双方应在乙方到岗前签订正式劳动合同。",
        "五、本协议经乙方接受、学校鉴证后生效。",
    ]
    english = [
        "Intent agreement",
        "",
        f"Employer (party A): {t.company}",
        f"Graduate (party B): {t.student}",
        f"School: {t.school}",
        "",
        f"1. Party A intends to employ party B as {t.position}, working in {t.location}.",
        f"2. The monthly salary is {salary} yuan.",
        f"3. Party B starts on {start}; the contract term is {t.term_years} years.",
        "4. This is an intent agreement: the parties sign a formal labour contract before"
        " party B starts.",
        "5. It takes effect once party B accepts it and the school countersigns it.",
    ]
    for number, clause in enumerate(clauses, start=6):
        chinese.append(f"{_chinese_numeral(number)}、{clause.chinese}")
        english.append(f"{number}. {clause.english}")
    return "\n".join([*chinese, "", "", *english]) + "\n"


def _chinese_numeral(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def sha256_of(text: str) -> str:
    """The hash the signatures carry: sha256 of the text's UTF-8 bytes, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
