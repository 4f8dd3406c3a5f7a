"""A student queues at a booth and a recruiter calls them, in two Chromium pages."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import DEMO_FAIR, WAIT, logged_in

BOOTH = "CNOOC Tianjin Branch"


async def _open_booth(page: Page, base: str) -> None:
    await page.goto(f"{base}/fairs/{DEMO_FAIR}/booths")
    await page.locator("a[href*='/booths/']", has_text=BOOTH).first.click()
    await expect(page.locator("#booth-live").get_by_role("status").first).to_have_text(
        "Live", timeout=WAIT
    )


async def test_student_queues_and_recruiter_calls(demo_server: str, browser: Browser) -> None:
    errors: list[str] = []
    rec_ctx, recruiter = await logged_in(browser, demo_server, "recruiter@demo.fair")
    stu_ctx, student = await logged_in(browser, demo_server, "student@demo.fair")
    for page in (recruiter, student):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    await _open_booth(recruiter, demo_server)
    await expect(recruiter.get_by_role("heading", name="Recruiter desk")).to_be_visible(
        timeout=WAIT
    )
    await _open_booth(student, demo_server)

    # The student joins the queue and sees an honest position.
    join = student.get_by_role("button", name="Join the queue")
    leave = student.get_by_role("button", name="Leave the queue")
    await expect(join).to_be_enabled(timeout=WAIT)
    # One of the pair at a time: the page's CSS must not override `hidden`.
    await expect(leave).to_be_hidden()
    await join.click()
    await expect(student.locator("[data-queue-state]")).to_contain_text(
        "number 1 of 1", timeout=WAIT
    )
    await expect(leave).to_be_visible()
    await expect(join).to_be_hidden()
    await expect(student.locator("[data-queue-eta]")).to_contain_text(
        "Estimated wait", timeout=WAIT
    )

    # The recruiter sees them waiting and calls the next student.
    await expect(recruiter.locator("[data-queue-rows] tr")).to_have_count(1, timeout=WAIT)
    call = recruiter.get_by_role("button", name="Call next")
    await expect(call).to_be_enabled(timeout=WAIT)
    await call.click()

    # The student gets the call with its countdown and accepts.
    dialog = student.locator("[data-call-dialog]")
    await expect(dialog).to_be_visible(timeout=WAIT)
    await expect(student.locator("[data-call-countdown]")).to_contain_text(
        "seconds left", timeout=WAIT
    )
    await student.get_by_role("button", name="Accept").click()
    # The recruiter sees the called student's profile, the degree by its name, not its code.
    await expect(recruiter.locator('[data-candidate] [data-field="degree"]')).to_have_text(
        "3-year college diploma", timeout=WAIT
    )
    await expect(student.locator("[data-queue-state]")).to_contain_text(
        "private chat", timeout=WAIT
    )

    # They talk privately: the message reaches the recruiter as text.
    await student.locator("#dm-body").fill("<b>Is the work offshore?</b> 是在海上工作吗？")
    await student.get_by_role("button", name="Send privately").click()
    await expect(recruiter.locator("[data-dm-log]")).to_contain_text(
        "<b>Is the work offshore?</b>", timeout=WAIT
    )
    assert errors == []
    await rec_ctx.close()
    await stu_ctx.close()
