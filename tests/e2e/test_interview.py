"""A video interview in Chromium (B6, I2, I3): a recruiter escalates a booth conversation,
the student knocks and is admitted, both see and hear each other through the server, the
recruiter shares the screen, they chat both ways, consent, and both see the recording indicator.

Chromium runs with a fake camera and microphone (see conftest.py). Playing video is checked
on each page's RTCPeerConnection receiving the other participant (window.__interviewPeers,
a test hook of interview-media.js): framesDecoded rises and the <video> has a size.
"""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from tests.e2e.conftest import WAIT, frames_decoded, logged_in, wait_for_frames
from tests.e2e.test_booth_queue import _open_booth

FRAMES_DECODED = """async () => {
  let frames = 0;
  for (const pc of (window.__interviewPeers || new Map()).values()) {
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded || 0;
    });
  }
  return frames;
}"""

REMOTE_VIDEO = """() => {
  const v = document.querySelector("[data-remote-video]");
  if (!v) return [0, 0, 0, 0];
  const box = v.getBoundingClientRect();
  return [v.videoWidth, v.videoHeight, box.width, box.height];
}"""


REMOTE_WIDTH = """async () => {
  let width = 0;
  for (const pc of (window.__interviewPeers || new Map()).values()) {
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") width = s.frameWidth || 0;
    });
  }
  return ((w) => CHECK)(width);
}"""


async def test_a_recruiter_interviews_a_student_over_video(
    demo_server: str, browser: Browser
) -> None:
    errors: list[str] = []
    rec_ctx, recruiter = await logged_in(browser, demo_server, "recruiter@demo.fair")
    stu_ctx, student = await logged_in(browser, demo_server, "student@demo.fair")
    for page in (recruiter, student):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The student queues; the recruiter turns it into a video interview (B6).
    await _open_booth(recruiter, demo_server)
    await _open_booth(student, demo_server)
    join = student.get_by_role("button", name="Join the queue")
    await expect(join).to_be_enabled(timeout=WAIT)
    await join.click()
    await expect(recruiter.locator("[data-queue-rows] tr")).to_have_count(1, timeout=WAIT)
    await (
        recruiter.locator("[data-queue-rows]").get_by_role("button", name="Video interview").click()
    )
    for page in (recruiter, student):
        link = page.locator("[data-interview-link]").first
        await expect(link).to_be_visible(timeout=WAIT)
        await link.click()
        await expect(page.get_by_role("heading", name="Video interview")).to_be_visible(
            timeout=WAIT
        )

    # The student waits; the recruiter sees the knock and admits them (I2).
    await expect(student.locator("[data-waiting]")).to_be_visible(timeout=WAIT)
    await expect(recruiter.locator("[data-knock]")).to_be_visible(timeout=WAIT)
    await recruiter.get_by_role("button", name="Admit").click()
    await expect(student.locator("[data-waiting]")).to_be_hidden(timeout=WAIT)

    # Both publish and each watches the other through the server.
    for page in (recruiter, student):
        await wait_for_frames(page, FRAMES_DECODED, 1)
    for page in (recruiter, student):
        before = await frames_decoded(page, FRAMES_DECODED)
        await wait_for_frames(
            page, FRAMES_DECODED, before + 15
        )  # still playing, not one frozen frame
        await page.wait_for_function(
            "() => document.querySelector('[data-remote-video]')?.videoWidth > 0", timeout=WAIT
        )
        width, height, box_width, box_height = await page.evaluate(REMOTE_VIDEO)
        assert width > 0 and height > 0 and box_width > 0 and box_height > 0
        await expect(page.locator("[data-timer]")).to_have_text(
            re.compile(r"^\d\d:\d\d$"), timeout=WAIT
        )

    # The recruiter shares the screen: the student sees it, wider than the 640x360 camera,
    # on the same connection (replaceTrack); stopping brings the camera back.
    await student.wait_for_function(
        REMOTE_WIDTH.replace("CHECK", "w > 0 && w <= 640"), timeout=WAIT, polling=200
    )
    await recruiter.get_by_role("button", name="Share screen").click()
    await expect(recruiter.get_by_role("button", name="Stop sharing")).to_be_visible()
    await student.wait_for_function(
        REMOTE_WIDTH.replace("CHECK", "w > 640"), timeout=WAIT, polling=200
    )
    await recruiter.get_by_role("button", name="Stop sharing").click()
    await student.wait_for_function(
        REMOTE_WIDTH.replace("CHECK", "w > 0 && w <= 640"), timeout=WAIT, polling=200
    )

    # The chat goes both ways, as text.
    await student.locator("#chat-text").fill("<b>Hello</b> 你好")
    await student.get_by_role("button", name="Send", exact=True).click()
    await expect(recruiter.locator("[data-chat-log]")).to_contain_text(
        "<b>Hello</b> 你好", timeout=WAIT
    )
    await recruiter.locator("#chat-text").fill("Welcome!")
    await recruiter.get_by_role("button", name="Send", exact=True).click()
    await expect(student.locator("[data-chat-log]")).to_contain_text("Welcome!", timeout=WAIT)

    # Recording needs everyone's consent (I3); then both pages show the indicator.
    await recruiter.get_by_role("button", name="Start recording").click()
    await expect(recruiter.locator("[data-notice]")).to_contain_text("must agree", timeout=WAIT)
    for page in (recruiter, student):
        await page.get_by_label("I agree to this interview being recorded").check()
    await expect(recruiter.locator("[data-people]")).not_to_contain_text(
        "does not agree", timeout=WAIT
    )
    await recruiter.get_by_role("button", name="Start recording").click()
    for page in (recruiter, student):
        await expect(page.locator("[data-recording-indicator]")).to_be_visible(timeout=WAIT)
        await expect(page.locator("[data-recording-indicator]")).to_have_text("● Recording")
    assert errors == []
    await rec_ctx.close()
    await stu_ctx.close()
