"""The live stage in Chromium: a presenter goes live with the fake camera, two students
watch it through the server's forwarding core (P1, P2).

Chromium runs with --use-fake-device-for-media-stream (a synthetic camera and a beep) and
--use-fake-ui-for-media-stream (the permission prompt says yes). Playing video is checked
on the viewers' RTCPeerConnection (window.__stagePeer, a test hook of stage.js):
framesDecoded rises, and the <video> has a picture and a size.
"""

from __future__ import annotations

import time

from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import WAIT, logged_in
from tests.e2e.test_briefing_qa import _briefing_url

FRAMES_DECODED = """async () => {
  const pc = window.__stagePeer;
  if (!pc) return 0;
  let frames = 0;
  (await pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") frames = s.framesDecoded || 0;
  });
  return frames;
}"""

VIDEO_SIZE = """() => {
  const v = document.querySelector("[data-stage-video]");
  const box = v.getBoundingClientRect();
  return [v.videoWidth, v.videoHeight, box.width, box.height, v.currentTime];
}"""


async def frames_decoded(page: Page) -> int:
    return int(await page.evaluate(FRAMES_DECODED))


async def wait_for_frames(page: Page, at_least: int) -> None:
    await page.wait_for_function(
        f"({FRAMES_DECODED})().then((n) => n >= {at_least})", timeout=WAIT, polling=100
    )


async def test_a_presenter_goes_live_and_two_students_watch(
    demo_server: str, browser: Browser
) -> None:
    errors: list[str] = []
    presenter_ctx, presenter = await logged_in(browser, demo_server, "recruiter@demo.fair")
    alice_ctx, alice = await logged_in(browser, demo_server, "student@demo.fair")
    bob_ctx, bob = await logged_in(browser, demo_server, "kelsang@demo.fair")
    pages = (presenter, alice, bob)
    for page in pages:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    url = await _briefing_url(alice, demo_server)
    for page in pages:
        await page.goto(url)
        await expect(page.locator("[data-stage-status]")).to_contain_text(
            "not live yet", timeout=WAIT
        )
    # Students have no button to go live; the presenter has.
    assert await alice.locator("[data-stage-go-live]").count() == 0

    clicked = time.monotonic()
    await presenter.get_by_role("button", name="Go live").click()
    await expect(presenter.locator("[data-stage-status]")).to_have_text(
        "You are live.", timeout=WAIT
    )
    await expect(presenter.get_by_role("button", name="Stop")).to_be_visible()

    for viewer in (alice, bob):
        await expect(viewer.locator("[data-stage-status]")).to_contain_text("Live:", timeout=WAIT)
        await wait_for_frames(viewer, 1)
    first_frame = time.monotonic() - clicked
    print(f"\nclick to first frame on both viewers: {first_frame:.2f}s")

    for viewer in (alice, bob):
        before = await frames_decoded(viewer)
        await wait_for_frames(viewer, before + 15)  # still playing, not one frozen frame
        # The element learns the picture size from its first rendered frame.
        await viewer.wait_for_function(
            "() => document.querySelector('[data-stage-video]').videoWidth > 0", timeout=WAIT
        )
        width, height, box_width, box_height, played = await viewer.evaluate(VIDEO_SIZE)
        assert played > 0
        assert width > 0 and height > 0 and box_width > 0 and box_height > 0
        await expect(viewer.get_by_role("button", name="Unmute")).to_be_visible()

    # Stop: the viewers' stage goes back to "not live".
    await presenter.get_by_role("button", name="Stop").click()
    for viewer in (alice, bob):
        await expect(viewer.locator("[data-stage-status]")).to_contain_text(
            "not live yet", timeout=WAIT
        )
        await expect(viewer.locator("[data-stage-screen]")).to_be_hidden()
    assert errors == []
    for context in (presenter_ctx, alice_ctx, bob_ctx):
        await context.close()
