"""A student registers, logs in, opens the campus fair and searches jobs, in Chromium."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from fairserver.demo import DEMO_PASSWORD

PHONE = {"width": 360, "height": 740}


async def _no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a 360px phone"


async def test_register_login_and_search_jobs(demo_server: str, browser: Browser) -> None:
    context = await browser.new_context(viewport=PHONE, locale="en-GB")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Register with a student number and name that are on the college's roster.
    await page.goto(f"{demo_server}/register")
    await _no_sideways_scroll(page)
    await page.get_by_label("E-mail").fill("dorje@student.test")
    await page.get_by_label("Password").fill("a-long-password")
    await page.get_by_label("Display name").fill("Dorje")
    await page.get_by_label("School").select_option("tvtc")
    await page.get_by_label("Student number").fill("2024030101")
    await page.get_by_label("Real name").fill("多吉扎西")
    await page.get_by_label("Major").fill("Petrochemical Technology / 石油化工技术")
    await page.get_by_label("Graduation year").fill("2027")
    await page.get_by_role("button", name="Register").click()
    await expect(page.get_by_text("Verified", exact=True)).to_be_visible()

    # Log out and back in through the form.
    await page.get_by_role("button", name="Log out").click()
    await page.get_by_role("link", name="Log in").first.click()
    await page.get_by_label("E-mail").fill("dorje@student.test")
    await page.get_by_label("Password").fill("a-long-password")
    await page.get_by_role("button", name="Log in").click()

    # The campus-only fair is listed for this verified student; open it and search.
    await page.get_by_role("link", name="CNOOC Campus Recruitment Fair").click()
    await _no_sideways_scroll(page)
    await page.get_by_role("link", name="Search jobs").click()
    await page.get_by_label("Keywords").fill("采油")
    await page.get_by_role("button", name="Search").click()
    results = page.locator("ul.jobs > li")
    await expect(results.first).to_be_visible()
    titles = await results.locator("h3").all_inner_texts()
    # 采油 ("oil production") is in a few titles and descriptions, not in the fair's 32 jobs.
    assert any("Offshore Production Operator" in title for title in titles), titles
    assert 0 < len(titles) < 10, titles
    await _no_sideways_scroll(page)

    # Switch the interface to Chinese from the header: the choice is saved for this user.
    await page.get_by_label("Language").select_option("zh_Hans")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    await page.reload()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    assert errors == []
    await context.close()


async def test_demo_student_cannot_see_campus_fair_when_unverified(
    demo_server: str, browser: Browser
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{demo_server}/login")
    await page.get_by_label("E-mail").fill("unverified@demo.fair")
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Career fairs")).to_be_visible()
    assert await page.get_by_role("link", name="CNOOC Campus Recruitment Fair").count() == 0
    response = await page.goto(f"{demo_server}/fairs/cnooc-tvtc-2026")
    assert response is not None and response.status == 404
    await context.close()
