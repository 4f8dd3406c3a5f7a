"""The live fair dashboard in Chromium: the organiser watches the fair and announces;
a student's lobby shows the announcement live, and the dashboard shows the student online.

Two browser contexts (two people) on the demo fair, talking to one `fairserver demo`
process over socket.io. Phone-sized viewports: the page must work on a 360px screen.
"""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.conftest import WAIT, logged_in

FAIR = "cnooc-tvtc-2026"


async def test_dashboard_announces_and_sees_the_student(demo_server: str, browser: Browser) -> None:
    errors: list[str] = []
    org_ctx, organiser = await logged_in(
        browser, demo_server, "organiser@demo.fair", timezone_id="Europe/London"
    )
    student_ctx, student = await logged_in(browser, demo_server, "student@demo.fair")
    for page in (organiser, student):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The organiser reaches the dashboard from the fair's management page.
    await organiser.goto(f"{demo_server}/organiser/fairs/{FAIR}")
    await organiser.get_by_role("link", name="Live dashboard").click()
    await expect(organiser.locator("[data-status]")).to_have_text("Live", timeout=WAIT)
    rows = organiser.locator("[data-booth-rows] tr[data-booth-id]")
    await expect(rows.first).to_be_visible(timeout=WAIT)
    # The 10:00-12:30 Shanghai briefing reads so, whatever the browser's zone (this one is
    # London's), and the page names the zone.
    await expect(organiser.locator("[data-briefing-list]")).to_contain_text(
        "10:00–12:30", timeout=WAIT
    )
    await expect(organiser.get_by_text("Times in China Time (Asia/Shanghai).")).to_be_visible()
    # Nobody from any company is on duty in a fresh demo: the booths are flagged.
    await expect(rows.first.get_by_text("Unstaffed")).to_be_visible()
    students_online = organiser.locator('[data-online="students"]')
    await expect(students_online).to_have_text("0", timeout=WAIT)

    # The student enters the lobby; the dashboard's next tick shows them online.
    await student.goto(f"{demo_server}/fairs/{FAIR}")
    banner = student.locator("#announcements")
    await expect(banner).to_be_hidden()
    await expect(students_online).to_have_text("1", timeout=WAIT)

    # The organiser announces; the text is shown as text, never as markup.
    text = "<b>Briefing hall</b> opens at 10:00 — 宣讲厅十点开放"
    await organiser.get_by_label("Announcement", exact=True).fill(text)
    await organiser.get_by_role("button", name="Send announcement").click()
    await expect(organiser.locator("[data-announce-result]")).to_have_text(
        "Announcement sent.", timeout=WAIT
    )
    await expect(organiser.get_by_label("Announcement", exact=True)).to_have_value("")
    await expect(organiser.locator("[data-announcement-list] li .body").first).to_have_text(text)

    # It reaches the student's lobby live, newest first.
    await expect(banner).to_be_visible(timeout=WAIT)
    await expect(banner.locator("li .body").first).to_have_text(text, timeout=WAIT)
    assert await banner.locator("b").count() == 0

    # Announcements are on every fair page, not only the lobby: a booth (whose own socket
    # carries them) and the job search (which joins the fair for them).
    for path in (f"/fairs/{FAIR}/booths", f"/fairs/{FAIR}/jobs"):
        await student.goto(f"{demo_server}{path}")
        if path.endswith("/booths"):
            await student.locator("a[href*='/booths/']", has_text="CNOOC Tianjin").first.click()
        await expect(student.locator("#announcements li .body").first).to_have_text(
            text, timeout=WAIT
        )

    # An empty announcement is refused in the form with a clear message.
    await organiser.get_by_role("button", name="Send announcement").click()
    await expect(organiser.locator("[data-announce-result]")).to_contain_text("at most 2000")

    assert errors == []
    await org_ctx.close()
    await student_ctx.close()
