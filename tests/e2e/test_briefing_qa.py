"""Live Q&A in Chromium: a student asks, a presenter approves, another student upvotes.

Three browser contexts (three people) on the CNOOC air briefing of the demo fair,
all talking to one `fairserver demo` process over socket.io.
"""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import PHONE, WAIT, logged_in

FAIR = "cnooc-tvtc-2026"
BRIEFING_TITLE = "CNOOC Air Briefing"


async def _briefing_url(page: Page, base: str) -> str:
    await page.goto(f"{base}/fairs/{FAIR}/agenda")
    link = page.get_by_role("link", name=BRIEFING_TITLE).first
    href = await link.get_attribute("href")
    assert href, "the agenda links the air briefing"
    return base + href if href.startswith("/") else href


async def _open_live(page: Page, url: str) -> None:
    await page.goto(url)
    await expect(page.locator("[data-status]")).to_have_text("Live", timeout=WAIT)


async def test_ask_approve_and_upvote_live(demo_server: str, browser: Browser) -> None:
    errors: list[str] = []
    alice_ctx, alice = await logged_in(browser, demo_server, "student@demo.fair")
    mod_ctx, mod = await logged_in(browser, demo_server, "recruiter@demo.fair")
    bob_ctx, bob = await logged_in(browser, demo_server, "kelsang@demo.fair")
    for page in (alice, mod, bob):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    url = await _briefing_url(alice, demo_server)
    for page in (alice, mod, bob):
        await _open_live(page, url)

    # Student A asks; the question waits for a moderator and only A sees it as theirs.
    question = "<svg onload=alert(1)> Can we go home for Losar?"
    await alice.get_by_label("Your question", exact=True).fill(question)
    await alice.get_by_role("button", name="Ask", exact=True).click()
    mine = alice.locator("[data-mine-list] [data-question-id]")
    await expect(mine).to_have_count(1, timeout=WAIT)
    await expect(mine.locator(".body")).to_have_text(question)
    await expect(mine).to_contain_text("Waiting for a moderator")
    question_id = await mine.get_attribute("data-question-id")

    # The presenter sees it pending, with A's name, and approves it.
    pending = mod.locator("[data-pending-list] [data-question-id]")
    await expect(pending).to_have_count(1, timeout=WAIT)
    await expect(pending.locator(".body")).to_have_text(question)
    await expect(pending).to_contain_text("Tsering Drolma")
    # The box for a dismissal's reason has a label a person can see, not only a screen reader.
    label = pending.get_by_text("Reason for dismissing")
    await expect(label).to_be_visible()
    box = await label.bounding_box()
    assert box and box["width"] > 40 and box["height"] > 8, box  # not a 1-px screen-reader label
    await expect(pending.get_by_label("Reason for dismissing")).to_be_visible()
    await pending.get_by_role("button", name="Approve").click()
    await expect(pending).to_have_count(0, timeout=WAIT)

    # Student B sees it appear live and upvotes it.
    public_b = bob.locator("[data-question-list] [data-question-id]")
    await expect(public_b).to_have_count(1, timeout=WAIT)
    await expect(public_b.locator(".body")).to_have_text(question)
    upvote = public_b.get_by_role("button", name="Upvote")
    await expect(upvote).to_have_attribute("aria-pressed", "false")
    await upvote.click()
    await expect(upvote).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    await expect(public_b.locator(".vote-count")).to_have_text("1", timeout=WAIT)
    await expect(public_b.locator(".votes")).to_have_text("1 vote")  # not "1 votes"

    # The moderator and A see the committed count become 1.
    for page in (mod, alice):
        public = page.locator("[data-question-list] [data-question-id]")
        await expect(public.locator(".vote-count")).to_have_text("1", timeout=WAIT)

    # Published, A's question is shown once: in the public list, marked as theirs, and no
    # longer in their own list of unpublished questions (issue 11: it was shown twice).
    await expect(alice.locator(f'[data-question-id="{question_id}"]')).to_have_count(1)
    await expect(mine).to_have_count(0)
    await expect(alice.get_by_role("heading", name="Your questions")).to_be_hidden()
    own_public = alice.locator("[data-question-list] [data-question-id]")
    await expect(own_public.locator(".badge.mine")).to_have_text("Your question")
    await expect(own_public.locator(".badge.mine")).to_be_visible()
    await expect(public_b.locator(".badge.mine")).to_have_count(0)  # not B's

    # Reactions are icons shipped with the project, not emoji that need a font (issue 11).
    applause = bob.get_by_role("button", name="Applause")
    await expect(applause).to_be_enabled(timeout=WAIT)
    assert (await applause.text_content() or "").strip() == ""  # no emoji character
    icon = await applause.locator("svg.icon").bounding_box()
    assert icon and icon["width"] >= 16 and icon["height"] >= 16, icon
    await applause.click()
    tally = alice.locator("[data-reaction-tally] .reaction-count")
    await expect(tally).to_have_text("Applause 1", timeout=WAIT)
    await expect(tally.locator("svg.icon")).to_be_visible()
    drawn = await tally.locator("svg.icon").bounding_box()
    assert drawn and drawn["width"] >= 12, drawn

    # The script-looking question stayed text: no element was made from it.
    assert await bob.locator("[data-question-list] svg").count() == 0
    width = await bob.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the briefing page is {width}px wide on a 360px phone"
    assert errors == []
    for context in (alice_ctx, mod_ctx, bob_ctx):
        await context.close()
