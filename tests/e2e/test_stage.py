"""The live stage in Chromium: a presenter goes live with the fake camera, two students
watch it through the server's forwarding core (P1, P2).

Chromium runs with --use-fake-device-for-media-stream (a synthetic camera and a beep) and
--use-fake-ui-for-media-stream (the permission prompt says yes). Playing video is checked
on the viewers' RTCPeerConnection (window.__stagePeer, a test hook of stage.js):
framesDecoded rises, and the <video> has a picture and a size.
"""

from __future__ import annotations

import re
import time

from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import WAIT, frames_decoded, logged_in, wait_for_frames
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
  if (!v) return [0, 0, 0, 0, 0];
  const box = v.getBoundingClientRect();
  return [v.videoWidth, v.videoHeight, box.width, box.height, v.currentTime];
}"""


DROP_SOCKET = """() => {
  window.__before = window.HOOK;
  window.__stageLiveForTest.socket.io.engine.close();
}"""
RECONNECTED = """() => {
  const pc = window.HOOK;
  return pc && pc !== window.__before && pc.connectionState === "connected";
}"""


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
    for page in (alice, bob):
        await expect(page.locator("[data-stage-status]")).to_contain_text(
            "not live yet. Come back at the start time.", timeout=WAIT
        )
    # The presenter is not told to come back later: they are the one to start it.
    await expect(presenter.locator("[data-stage-status]")).to_have_text(
        "You are not live yet. Choose your camera and microphone, then press Go live.",
        timeout=WAIT,
    )
    # Students have no button to go live; the presenter has.
    assert await alice.locator("[data-stage-go-live]").count() == 0

    # One of each pair at a time: the page's CSS must not override `hidden`.
    await expect(presenter.get_by_role("button", name="Stop", exact=True)).to_be_hidden()
    clicked = time.monotonic()
    await presenter.get_by_role("button", name="Go live").click()
    await expect(presenter.locator("[data-stage-status]")).to_have_text(
        "You are live.", timeout=WAIT
    )
    await expect(presenter.get_by_role("button", name="Stop", exact=True)).to_be_visible()
    await expect(presenter.get_by_role("button", name="Go live")).to_be_hidden()

    for viewer in (alice, bob):
        await expect(viewer.locator("[data-stage-status]")).to_contain_text("Live:", timeout=WAIT)
        await wait_for_frames(viewer, FRAMES_DECODED, 1)
    first_frame = time.monotonic() - clicked
    print(f"\nclick to first frame on both viewers: {first_frame:.2f}s")

    for viewer in (alice, bob):
        before = await frames_decoded(viewer, FRAMES_DECODED)
        await wait_for_frames(
            viewer, FRAMES_DECODED, before + 15
        )  # still playing, not one frozen frame
        # The element learns the picture size from its first rendered frame.
        await viewer.wait_for_function(
            "() => document.querySelector('[data-stage-video]')?.videoWidth > 0", timeout=WAIT
        )
        width, height, box_width, box_height, played = await viewer.evaluate(VIDEO_SIZE)
        assert played > 0
        assert width > 0 and height > 0 and box_width > 0 and box_height > 0
        await expect(viewer.get_by_role("button", name="Unmute")).to_be_visible()

    # A dropped connection, as on a network change: the socket reconnects, the server has
    # closed that socket's peers, and the page connects new ones by itself.
    await alice.evaluate(DROP_SOCKET.replace("HOOK", "__stagePeer"))
    await alice.wait_for_function(RECONNECTED.replace("HOOK", "__stagePeer"), timeout=WAIT)
    await wait_for_frames(alice, FRAMES_DECODED, await frames_decoded(alice, FRAMES_DECODED) + 10)
    # The presenter's too: they go live again on their own and the viewers follow.
    await presenter.evaluate(DROP_SOCKET.replace("HOOK", "__stagePublisher"))
    await presenter.wait_for_function(RECONNECTED.replace("HOOK", "__stagePublisher"), timeout=WAIT)
    for viewer in (alice, bob):
        await wait_for_frames(
            viewer, FRAMES_DECODED, await frames_decoded(viewer, FRAMES_DECODED) + 10
        )

    # Stop: the viewers' stage goes back to "not live".
    await presenter.get_by_role("button", name="Stop", exact=True).click()
    for viewer in (alice, bob):
        await expect(viewer.locator("[data-stage-status]")).to_contain_text(
            "not live yet", timeout=WAIT
        )
        await expect(viewer.locator("[data-stage-screen]")).to_be_hidden()
    assert errors == []
    for context in (presenter_ctx, alice_ctx, bob_ctx):
        await context.close()


INBOUND = """async () => {
  const pc = window.__stagePeer;
  const out = [];
  if (!pc || pc.connectionState === "closed") return out;
  (await pc.getStats()).forEach((s) => {
    if (s.type !== "inbound-rtp") return;
    out.push({kind: s.kind, frames: s.framesDecoded || 0, width: s.frameWidth || 0,
              packets: s.packetsReceived || 0});
  });
  return out;
}"""

SENT_TRACKS = """() => {
  const pc = window.__stagePublisher;
  const state = {};
  for (const sender of pc.getSenders()) if (sender.track) state[sender.track.kind] = sender.track.enabled;
  return state;
}"""


def videos_playing(count: int, frames: int, max_width: int = 100_000) -> str:
    """JS: `count` inbound videos, each with `frames` decoded, none wider than max_width."""
    return f"""({INBOUND})().then((s) => {{
      const v = s.filter((x) => x.kind === "video");
      return v.length === {count} && v.every((x) => x.frames >= {frames} && x.width > 0
        && x.width <= {max_width});
    }})"""


async def inbound(page: Page) -> list[dict[str, int | str]]:
    return list(await page.evaluate(INBOUND))


async def audio_packets(page: Page) -> int:
    return sum(int(s["packets"]) for s in await inbound(page) if s["kind"] == "audio")


async def test_co_presenters_low_bandwidth_and_presenter_controls(
    demo_server: str, browser: Browser
) -> None:
    """Two presenters live at once; each viewer's grid plays both; the presenter sees the
    viewer count; mute and camera off; audio only; a loss suggestion switches to low."""
    errors: list[str] = []
    ann_ctx, ann = await logged_in(browser, demo_server, "recruiter@demo.fair")
    ben_ctx, ben = await logged_in(browser, demo_server, "cnooc-tianjin.hr@demo.fair")
    alice_ctx, alice = await logged_in(browser, demo_server, "student@demo.fair")
    bob_ctx, bob = await logged_in(browser, demo_server, "kelsang@demo.fair")
    pages = (ann, ben, alice, bob)
    for page in pages:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    url = await _briefing_url(alice, demo_server)
    for page in pages:
        await page.goto(url)
        await expect(page.locator("[data-stage-status]")).to_contain_text(
            "not live yet", timeout=WAIT
        )
    await alice.evaluate("() => localStorage.removeItem('fairserver.stage.mode')")

    for presenter in (ann, ben):
        await presenter.get_by_role("button", name="Go live").click()
        await expect(presenter.locator("[data-stage-status]")).to_have_text(
            "You are live.", timeout=WAIT
        )

    # (a) Each viewer plays both presenters, labelled with their names.
    names = ["Liu Haitao / 刘海涛", "Gao Jing / 高静"]
    for viewer in (alice, bob):
        await expect(viewer.locator("[data-stage-grid] figcaption")).to_have_text(
            names, timeout=WAIT
        )
        # Half a second of pictures on both: playing, not one frozen frame.
        await viewer.wait_for_function(videos_playing(2, 15), timeout=WAIT, polling=200)
    # A presenter sees themselves and the co-presenter, not their own stream back.
    await expect(ann.locator("[data-stage-grid] figcaption")).to_have_text(
        ["You", names[1]], timeout=WAIT
    )

    # (b) The presenter sees the two students watching (co-presenters do not count).
    await expect(ann.locator("[data-stage-viewers]")).to_have_text(
        "Video to 2 viewers", timeout=WAIT
    )
    # The page says "watching" once, and a viewer sees only that line (issue 11: two counts).
    for viewer in (alice, bob):
        await expect(viewer.get_by_text(re.compile(r"\d+ watching"))).to_have_count(1)
        await expect(viewer.locator("[data-stage-viewers]")).to_have_text("")
    await expect(ann.locator("[data-stage-send-health]")).to_contain_text("kbps", timeout=WAIT)

    # (e) The fake devices are listed; mute and camera off change what is sent.
    camera_labels = await ann.locator("[data-stage-camera] option").all_text_contents()
    mic_labels = await ann.locator("[data-stage-mic] option").all_text_contents()
    assert camera_labels and all(camera_labels), camera_labels
    assert mic_labels and all(mic_labels), mic_labels
    assert await ann.evaluate(SENT_TRACKS) == {"video": True, "audio": True}
    await ann.get_by_role("button", name="Mute microphone").click()
    await ann.get_by_role("button", name="Turn camera off").click()
    assert await ann.evaluate(SENT_TRACKS) == {"video": False, "audio": False}
    await expect(ann.get_by_role("button", name="Unmute microphone")).to_have_attribute(
        "aria-pressed", "true"
    )
    await ann.get_by_role("button", name="Unmute microphone").click()
    await ann.get_by_role("button", name="Turn camera on").click()
    assert await ann.evaluate(SENT_TRACKS) == {"video": True, "audio": True}

    # (c) Audio only, in one click: no video arrives, the sound does; remembered.
    await alice.get_by_role("button", name="Audio only").click()
    await expect(alice.locator("[data-stage-grid] .audio-only")).to_have_count(2, timeout=WAIT)
    await alice.wait_for_function(
        f"({INBOUND})().then((s) => s.length === 2 && s.every((x) => x.kind === 'audio'))",
        timeout=WAIT,
        polling=200,
    )
    heard = await audio_packets(alice)
    await alice.wait_for_function(
        f"({INBOUND})().then((s) => s.reduce((n, x) => n + x.packets, 0) > {heard + 50})",
        timeout=WAIT,
        polling=200,
    )
    assert await alice.evaluate("() => localStorage.getItem('fairserver.stage.mode')") == "audio"

    # (d) Packet loss in two samples in a row suggests low-bandwidth mode; one click on
    # "Switch" brings the server's 320x180 rendition of both presenters.
    suggestion = bob.locator("[data-stage-suggest]")
    await bob.evaluate("() => window.__stageHealthForTest({recv: {lossPct: 12, freezeCount: 0}})")
    await expect(suggestion).to_be_hidden()
    await bob.evaluate("() => window.__stageHealthForTest({recv: {lossPct: 9, freezeCount: 0}})")
    await expect(suggestion).to_be_visible()
    await suggestion.get_by_role("button", name="Switch").click()
    await expect(suggestion).to_be_hidden()
    await expect(bob.get_by_role("button", name="Low bandwidth")).to_have_attribute(
        "aria-pressed", "true"
    )
    await bob.wait_for_function(videos_playing(2, 5, max_width=320), timeout=WAIT, polling=200)

    for presenter in (ann, ben):
        await presenter.get_by_role("button", name="Stop", exact=True).click()
    for viewer in (alice, bob):
        await expect(viewer.locator("[data-stage-status]")).to_contain_text(
            "not live yet", timeout=WAIT
        )
    assert errors == []
    for context in (ann_ctx, ben_ctx, alice_ctx, bob_ctx):
        await context.close()
