"""Browser tests: a real `fairserver demo` process and Debian's chromium via Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from fairserver.demo import DEMO_PASSWORD

CHROMIUM_FLAGS = [
    "--headless=new",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def chromium_path() -> str:
    path = os.environ.get("FAIRSERVER_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.fail(f"chromium not found at {path}: run the suite through `make test`")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_demo(workdir: Path, **settings: str) -> Iterator[str]:
    """`fairserver demo` in its own process, on a fresh SQLite file in `workdir`, with any
    extra FAIRSERVER_* settings (name without the prefix); yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "FAIRSERVER_PORT": str(port),
        "FAIRSERVER_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'demo.db'}",
        "FAIRSERVER_ARGON2_TIME_COST": "1",
        "FAIRSERVER_ARGON2_MEMORY_KIB": "1024",
        "FAIRSERVER_RECORDINGS_DIR": str(workdir / "recordings"),
        **{f"FAIRSERVER_{name}": value for name, value in settings.items()},
    }
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "fairserver.cli", "demo"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("demo server did not start:\n" + (workdir / "server.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`fairserver demo` in its own process, on a fresh SQLite file."""
    with running_demo(tmp_path_factory.mktemp("demo")) as base:
        yield base


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield instance
        finally:
            await instance.close()


PHONE = {"width": 360, "height": 740}
WAIT = 15_000  # ms: every wait in a browser test is bounded
DEMO_FAIR = "cnooc-tvtc-2026"


async def logged_in(
    browser: Browser, base: str, email: str, timezone_id: str | None = None
) -> tuple[BrowserContext, Page]:
    """A phone-sized page logged in as a demo account (in the machine's time zone, or the
    one given)."""
    context = await browser.new_context(viewport=PHONE, locale="en-GB", timezone_id=timezone_id)
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Career fairs")).to_be_visible(timeout=WAIT)
    return context, page


async def frames_decoded(page: Page, script: str) -> int:
    """``script`` is a page function returning the frames decoded so far (a test hook)."""
    return int(await page.evaluate(script))


async def wait_for_frames(page: Page, script: str, at_least: int) -> None:
    await page.wait_for_function(
        f"({script})().then((n) => n >= {at_least})", timeout=WAIT, polling=100
    )
