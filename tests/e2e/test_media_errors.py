"""Clear messages when media cannot start (issue 4, browser client): the camera is refused,
or there is none. Chromium's fake-UI flag always allows the camera, so the page's
getUserMedia is made to fail as the browser would (same DOMException names)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import WAIT, logged_in
from tests.e2e.test_briefing_qa import _briefing_url

FAIL_CAMERA = """(name) => {
  const refuse = () => Promise.reject(new DOMException("refused in test", name));
  navigator.mediaDevices.getUserMedia = refuse;
}"""


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ("NotAllowedError", "The browser did not allow the camera or microphone."),
        ("NotFoundError", "No camera or microphone was found."),
    ],
)
async def test_a_presenter_is_told_why_going_live_failed(
    demo_server: str, browser: Browser, error: str, message: str
) -> None:
    context, presenter = await logged_in(browser, demo_server, "recruiter@demo.fair")
    errors: list[str] = []
    presenter.on("pageerror", lambda exc: errors.append(str(exc)))
    url = await _briefing_url(presenter, demo_server)
    await presenter.goto(url)
    await expect(presenter.locator("[data-stage-status]")).to_contain_text(
        "not live yet", timeout=WAIT
    )
    await presenter.evaluate(FAIL_CAMERA, error)
    await presenter.get_by_role("button", name="Go live").click()
    status = presenter.locator("[data-stage-status]")
    await expect(status).to_contain_text(message, timeout=WAIT)
    # Nothing went live, and Go live can be tried again.
    await expect(status).not_to_contain_text("Live:")
    await expect(presenter.get_by_role("button", name="Go live")).to_be_enabled()
    assert errors == []
    await context.close()
