"""Recording and replay in Chromium (P7): a presenter records a few seconds of the live
stage while a student asks a question; the replay plays the WebM and shows the question
on its timeline.

Chromium's fake camera and microphone feed the stage; the recording is the forwarded VP8
and Opus remuxed by the server, so this also proves a browser plays what it writes.
"""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.conftest import PHONE, WAIT, logged_in
from tests.e2e.test_briefing_qa import _briefing_url

PLAYBACK = """() => {
  const v = document.querySelector("[data-replay-video]");
  return {time: v.currentTime, duration: v.duration, width: v.videoWidth, error: v.error && v.error.code};
}"""


async def test_record_then_replay_with_the_question_timeline(
    demo_server: str, browser: Browser
) -> None:
    errors: list[str] = []
    presenter_ctx, presenter = await logged_in(browser, demo_server, "recruiter@demo.fair")
    student_ctx, student = await logged_in(browser, demo_server, "student@demo.fair")
    for page in (presenter, student):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    url = await _briefing_url(student, demo_server)
    for page in (presenter, student):
        await page.goto(url)
        await expect(page.locator("[data-status]")).to_have_text("Live", timeout=WAIT)
    assert await student.get_by_role("button", name="Start recording").count() == 0

    await presenter.get_by_role("button", name="Go live").click()
    await expect(presenter.locator("[data-stage-status]")).to_have_text(
        "You are live.", timeout=WAIT
    )
    await expect(presenter.get_by_role("button", name="Stop recording")).to_be_hidden()
    await presenter.get_by_role("button", name="Start recording").click()
    await expect(presenter.get_by_role("button", name="Stop recording")).to_be_visible(timeout=WAIT)
    await expect(presenter.get_by_role("button", name="Start recording")).to_be_hidden()
    # Everyone sees the indicator.
    for page in (presenter, student):
        await expect(page.locator("[data-recording-indicator]")).to_contain_text(
            "Recording since", timeout=WAIT
        )

    question = "Is the replay kept after the fair?"
    await student.get_by_label("Your question", exact=True).fill(question)
    await student.get_by_label("Ask anonymously", exact=False).check()
    await student.get_by_role("button", name="Ask", exact=True).click()
    pending = presenter.locator("[data-pending-list] [data-question-id]")
    await expect(pending).to_have_count(1, timeout=WAIT)
    await pending.get_by_role("button", name="Approve").click()
    await expect(pending).to_have_count(0, timeout=WAIT)
    await presenter.wait_for_timeout(2500)

    await presenter.get_by_role("button", name="Stop recording").click()
    await expect(student.locator("[data-recording-indicator]")).to_be_hidden(timeout=WAIT)
    replay = student.get_by_role("link", name="Watch the replay")
    await expect(replay).to_be_visible(timeout=WAIT)

    await replay.click()
    entries = student.locator("[data-timeline] li")
    await expect(entries).to_have_count(1, timeout=WAIT)
    await expect(entries).to_contain_text(question)
    await expect(entries).to_contain_text("Anonymous")
    await expect(entries).not_to_contain_text("Tsering")
    await student.evaluate(
        "() => { const v = document.querySelector('[data-replay-video]'); v.muted = true; return v.play(); }"
    )
    await student.wait_for_function(
        "() => document.querySelector('[data-replay-video]').currentTime > 1",
        timeout=WAIT,
        polling=100,
    )
    state = await student.evaluate(PLAYBACK)
    assert state["error"] is None and state["width"] > 0
    # Selecting the question seeks there and highlights it.
    await entries.first.get_by_role("button").click()
    await expect(entries.first).to_have_attribute("aria-current", "true", timeout=WAIT)
    width = await student.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the replay page is {width}px wide on a 360px phone"
    assert errors == []
    for context in (presenter_ctx, student_ctx):
        await context.close()
