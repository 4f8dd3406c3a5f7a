"""Screen share in Chromium (P1): the presenter swaps the camera for the screen and back,
and the students keep watching without a new connection.

With --use-fake-ui-for-media-stream, headless Chromium answers getDisplayMedia with its
fake 1280x720 screen, so the share is real capture, encoding and forwarding: the viewer's
decoded picture grows from the camera's 640x360 to the screen's width.
"""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.conftest import WAIT, frames_decoded, logged_in, wait_for_frames
from tests.e2e.test_briefing_qa import _briefing_url
from tests.e2e.test_stage import FRAMES_DECODED, INBOUND

SENT_VIDEO = """() => {
  const sender = window.__stagePublisher.getSenders().find((s) => s.track?.kind === "video");
  return sender ? sender.track.label : "";
}"""


def viewer_width(check: str) -> str:
    """JS: the viewer's one inbound video has decoded frames and a width where ``check``."""
    return f"""({INBOUND})().then((s) => {{
      const v = s.filter((x) => x.kind === "video");
      return v.length === 1 && v[0].frames > 0 && ({check})(v[0].width);
    }})"""


async def test_a_presenter_shares_the_screen_and_students_see_it(
    demo_server: str, browser: Browser
) -> None:
    errors: list[str] = []
    presenter_ctx, presenter = await logged_in(browser, demo_server, "recruiter@demo.fair")
    alice_ctx, alice = await logged_in(browser, demo_server, "student@demo.fair")
    for page in (presenter, alice):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    url = await _briefing_url(alice, demo_server)
    for page in (presenter, alice):
        await page.goto(url)
    await presenter.get_by_role("button", name="Go live").click()
    await expect(presenter.locator("[data-stage-status]")).to_have_text(
        "You are live.", timeout=WAIT
    )
    await wait_for_frames(alice, FRAMES_DECODED, 15)
    await alice.wait_for_function(viewer_width("(w) => w > 0 && w <= 640"), timeout=WAIT)
    camera_label = await presenter.evaluate(SENT_VIDEO)
    peer = await alice.evaluate_handle("() => window.__stagePeer")

    await presenter.get_by_role("button", name="Share screen").click()
    await expect(presenter.get_by_role("button", name="Stop sharing")).to_be_visible()
    assert await presenter.evaluate(SENT_VIDEO) not in ("", camera_label)
    # The student sees the screen: a wider picture on the same connection, still playing.
    await alice.wait_for_function(viewer_width("(w) => w > 640"), timeout=WAIT, polling=200)
    await wait_for_frames(alice, FRAMES_DECODED, await frames_decoded(alice, FRAMES_DECODED) + 10)
    assert await alice.evaluate("(pc) => pc === window.__stagePeer", peer)

    await presenter.get_by_role("button", name="Stop sharing").click()
    await expect(presenter.get_by_role("button", name="Share screen")).to_be_visible()
    assert await presenter.evaluate(SENT_VIDEO) == camera_label
    await alice.wait_for_function(
        viewer_width("(w) => w > 0 && w <= 640"), timeout=WAIT, polling=200
    )
    await wait_for_frames(alice, FRAMES_DECODED, await frames_decoded(alice, FRAMES_DECODED) + 10)
    assert errors == []
    for context in (presenter_ctx, alice_ctx):
        await context.close()
