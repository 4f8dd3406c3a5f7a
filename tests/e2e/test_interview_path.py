"""The interview path end to end in Chromium, as new users would walk it (issue 9):

1. the organiser opens the booking window;
2. a recruiter publishes a slot for a job and a scorecard criterion;
3. a student applies to the job and books the slot;
4. a second student joins the job's waitlist;
5. the first student cancels: the second is offered the slot and takes it;
6. at the start time the recruiter admits the student from the waiting room, with real
   video both ways through the server;
7. the soft wrap-up warning appears (the server runs with a wrap-up as long as the slot, so
   it is due from the start instead of after a wait);
8. the recruiter fills the scorecard, records an offer and releases it;
9. the student sees the outcome and accepts the intent agreement;
10. the organiser countersigns;
11. the agreement page shows the same hash to all three.

The slot starts at the next whole minute at least a minute away (the publish form takes
minutes, and a slot in the past cannot be published), so the room opens within two.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import DEMO_FAIR, WAIT, logged_in, running_demo, wait_for_frames
from tests.e2e.test_booth_queue import BOOTH
from tests.e2e.test_interview import FRAMES_DECODED

ZONE = ZoneInfo("Asia/Shanghai")  # the demo fair's
JOB = "Offshore Production Operator"
RECRUITER = "Liu Haitao"
OPENING = 150_000  # ms: the room opens within two minutes of publishing


@pytest.fixture(scope="module")
def path_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_demo(tmp_path_factory.mktemp("path"), WRAP_UP_MINUTES="10") as base:
        yield base


async def _shot(page: Page, name: str) -> None:
    """With FAIRSERVER_SHOTS=dir, a screenshot of each step for a person to look at."""
    folder = os.environ.get("FAIRSERVER_SHOTS")
    if folder:
        await page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def _slot_start() -> datetime:
    now = datetime.now(ZONE).replace(second=0, microsecond=0)
    return now + timedelta(minutes=2)


async def _open_booking_window(organiser: Page, base: str) -> None:
    await organiser.goto(f"{base}/organiser/fairs/{DEMO_FAIR}")
    now = datetime.now(ZONE)
    await organiser.get_by_label("Bookings open").fill(
        (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    )
    await organiser.get_by_label("Bookings close").fill(
        (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    )
    await organiser.get_by_role("button", name="Save the booking window").click()
    await expect(organiser.get_by_text("Students may book from")).to_be_visible(timeout=WAIT)


async def _publish(recruiter: Page, base: str, start: datetime) -> None:
    await recruiter.goto(f"{base}/company/criteria")
    await recruiter.get_by_label("Name").fill("Teamwork")
    await recruiter.get_by_label("Scale (highest rating)").fill("5")
    await recruiter.get_by_role("button", name="Add", exact=True).click()
    await expect(recruiter.get_by_role("cell", name="Teamwork", exact=True)).to_be_visible(
        timeout=WAIT
    )

    await recruiter.goto(f"{base}/company/fairs/{DEMO_FAIR}/slots")
    await recruiter.get_by_label("Date").fill(start.strftime("%Y-%m-%d"))
    await recruiter.get_by_label("First start").fill(start.strftime("%H:%M"))
    await recruiter.get_by_label("Number of slots").fill("1")
    await recruiter.get_by_label("Length (minutes)").fill("10")
    await recruiter.get_by_label("Break between slots").fill("0")
    job = recruiter.get_by_label("Job (optional)")
    value = await job.locator("option", has_text=JOB).first.get_attribute("value")
    assert value
    await job.select_option(value)
    await recruiter.get_by_label(RECRUITER).check()
    await recruiter.get_by_role("button", name="Publish").click()
    await expect(recruiter.get_by_text("Slots published.")).to_be_visible(timeout=WAIT)


async def _job_page(student: Page, base: str) -> None:
    """From the booth hall to the company's booth, then to the job, as a student finds it."""
    await student.goto(f"{base}/fairs/{DEMO_FAIR}/booths")
    await student.locator("a[href*='/booths/']", has_text=BOOTH).first.click()
    await student.get_by_role("link", name=re.compile(JOB)).first.click()
    await expect(student.get_by_role("heading", name=re.compile(JOB))).to_be_visible(timeout=WAIT)


async def _job_slots(student: Page, base: str) -> None:
    await _job_page(student, base)
    await student.get_by_role("link", name="Interview slots for this job").click()
    await expect(student.get_by_role("heading", name=re.compile("Interview slots"))).to_be_visible(
        timeout=WAIT
    )


async def test_the_whole_interview_path(path_server: str, browser: Browser) -> None:
    base = path_server
    errors: list[str] = []
    contexts = []
    pages: dict[str, Page] = {}
    for who, email in (
        ("organiser", "organiser@demo.fair"),
        ("recruiter", "recruiter@demo.fair"),
        ("first", "student@demo.fair"),
        ("second", "kelsang@demo.fair"),
    ):
        context, page = await logged_in(browser, base, email)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        contexts.append(context)
        pages[who] = page
    organiser, recruiter, first, second = (
        pages["organiser"],
        pages["recruiter"],
        pages["first"],
        pages["second"],
    )

    # 1-2. The organiser opens bookings; the recruiter adds a criterion and a slot.
    await _open_booking_window(organiser, base)
    start = _slot_start()
    await _publish(recruiter, base, start)

    # 3. The first student applies to the job, then books its one slot.
    await _job_page(first, base)
    await first.get_by_label("A short message to the company").fill(
        "I would like to work offshore."
    )
    await first.get_by_role("button", name="Apply").click()
    await expect(first.get_by_text("Your application has been sent.")).to_be_visible(timeout=WAIT)
    await first.get_by_role("link", name="Interview slots for this job").click()
    await first.get_by_role("button", name="Book").first.click()
    await expect(first.get_by_role("heading", name="Your booking")).to_be_visible(timeout=WAIT)
    await _shot(first, "03-booked")

    # 4. The second finds no free slot and joins the waitlist.
    await _job_slots(second, base)
    await expect(second.get_by_text("No slot is free.")).to_be_visible()
    await second.get_by_role("button", name="Join the waitlist").click()
    await expect(second.get_by_text("You are number 1 on the waitlist")).to_be_visible(timeout=WAIT)

    # 5. The first cancels; the second's page shows the held offer by itself, and takes it.
    #    The second's socket is down just then (a phone asleep, a train tunnel): the offer's
    #    event is missed, and the page catches up when its socket connects again.
    await second.wait_for_function("() => window.__slotsSocket?.connected", timeout=WAIT)
    await second.evaluate("() => window.__slotsSocket.disconnect()")
    await first.get_by_role("button", name="Cancel the booking").click()
    await expect(first.get_by_role("button", name="Book")).to_have_count(0, timeout=WAIT)
    await expect(second.get_by_text("A slot is held for you:")).to_be_hidden()
    await second.evaluate("() => window.__slotsSocket.connect()")
    await expect(second.get_by_text("A slot is held for you:")).to_be_visible(timeout=WAIT)
    await _shot(second, "05-offered")
    await second.get_by_role("button", name="Take this slot").click()
    await expect(second.get_by_role("heading", name="Your booking")).to_be_visible(timeout=WAIT)

    # 6. Both open the room; it opens at the start; the recruiter admits the student.
    await second.get_by_role("link", name="Interview room").click()
    await recruiter.goto(f"{base}/interviews")
    await recruiter.get_by_role("link", name=re.compile("Kelsang Dorje")).first.click()
    for page in (recruiter, second):
        await expect(page.get_by_role("heading", name="Video interview")).to_be_visible(
            timeout=WAIT
        )
    await expect(second.get_by_text("The room opens at")).to_be_visible(timeout=WAIT)
    await _shot(second, "06-not-open")
    await expect(second.locator("[data-waiting]")).to_be_visible(timeout=OPENING)
    await expect(recruiter.locator("[data-knock]")).to_be_visible(timeout=WAIT)
    await recruiter.get_by_role("button", name="Admit").click()
    await expect(second.locator("[data-waiting]")).to_be_hidden(timeout=WAIT)
    for page in (recruiter, second):
        await wait_for_frames(page, FRAMES_DECODED, 15)
        await expect(page.locator("[data-timer]")).to_have_text(
            re.compile(r"^\d\d:\d\d / 10:00$"), timeout=WAIT
        )

    # 7. The soft wrap-up warning, on both sides; nobody is cut off.
    for page in (recruiter, second):
        await expect(page.locator("[data-wrap-up]")).to_contain_text(
            "time to wrap up", timeout=WAIT
        )
    await expect(second.locator("[data-remote-video]")).to_be_visible()
    await _shot(second, "07-student-room")
    await _shot(recruiter, "07-recruiter-room")

    # 8. The scorecard, an offer, its release.
    await recruiter.get_by_role("link", name="Scorecard").click()
    for fieldset in await recruiter.locator("fieldset").all():
        radio = fieldset.get_by_label("4", exact=True)
        if await radio.count():
            await radio.check()
    await recruiter.get_by_role("button", name="Save my scorecard").click()
    await expect(recruiter.get_by_text("Saved.")).to_be_visible(timeout=WAIT)
    await recruiter.get_by_role("combobox", name="Outcome").select_option("offer")
    await recruiter.get_by_label("Message for the candidate").fill("We would like you on board.")
    await recruiter.get_by_role("button", name="Save outcome").click()
    await expect(
        recruiter.get_by_text("Not released: the candidate does not see it")
    ).to_be_visible(timeout=WAIT)
    await recruiter.get_by_role("button", name="Release to the candidate").click()
    await expect(recruiter.get_by_text("Released to the candidate")).to_be_visible(timeout=WAIT)
    await _shot(recruiter, "08-scorecard")

    # The student sees the outcome and the message, never the scores or notes.
    scorecard_url = recruiter.url
    await second.goto(f"{base}/interviews")
    await expect(second.get_by_text("We would like you on board.")).to_be_visible(timeout=WAIT)
    assert "Teamwork" not in await second.content()
    await _shot(second, "08-student-outcome")

    # 9. The recruiter sends the intent agreement from the offer: a 3-year term brings in
    #    the policy hall's out-of-region subsidy clause.
    await recruiter.goto(scorecard_url)  # the scorecard, with its agreement link
    await recruiter.get_by_role("link", name="Intent agreement").click()
    await expect(recruiter.get_by_role("heading", name="Send an intent agreement")).to_be_visible(
        timeout=WAIT
    )
    await recruiter.get_by_label("Place of work").fill("Tianjin, Bohai Bay")
    await recruiter.get_by_label("Monthly salary (yuan)").fill("9000")
    await recruiter.get_by_label("Start date").fill("2027-07-01")
    await recruiter.get_by_label("Contract term (years)").fill("3")
    await recruiter.get_by_role("button", name="Send the agreement").click()
    await expect(recruiter.locator("#agreement-hash")).to_be_visible(timeout=WAIT)
    sent_hash = (await recruiter.locator("#agreement-hash").inner_text()).strip()
    assert re.fullmatch(r"[0-9a-f]{64}", sent_hash)
    agreement_url = recruiter.url
    await expect(recruiter.get_by_text("subsid", exact=False).first).to_be_visible()

    # The student finds it from the outcome in the room, reads it with its hash, accepts.
    await second.goto(f"{base}/interviews")
    await second.get_by_role("link", name=re.compile(BOOTH)).first.click()
    await second.get_by_role("link", name="Your intent agreements").click()
    await second.get_by_role("link", name=re.compile(JOB)).first.click()
    await expect(second.locator("#agreement-hash")).to_have_text(sent_hash, timeout=WAIT)
    await _shot(second, "09-agreement")
    await second.get_by_role("button", name="Accept this agreement").click()
    await expect(second.locator(".state")).to_contain_text("Accepted", timeout=WAIT)

    # 10. The organiser of the student's school countersigns.
    await organiser.goto(f"{base}/organiser/agreements")
    await organiser.get_by_role("link", name=re.compile(JOB)).first.click()
    await organiser.get_by_role("button", name="Countersign").click()
    await expect(organiser.locator(".state")).to_contain_text(
        "Countersigned by the school", timeout=WAIT
    )

    # 11. The same hash on the agreement page for all three, and on the printable page.
    for page in (recruiter, second, organiser):
        await page.goto(agreement_url)
        await expect(page.locator("#agreement-hash")).to_have_text(sent_hash, timeout=WAIT)
        await expect(page.locator(".state")).to_contain_text("Countersigned by the school")
    await organiser.get_by_role("link", name="Printable version").click()
    await expect(organiser.get_by_text(sent_hash).first).to_be_visible(timeout=WAIT)
    await _shot(organiser, "11-print")

    assert errors == []
    for context in contexts:
        await context.close()
