"""Registration, log-in, sessions and CSRF through the real HTTP stack."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from fairserver.clock import utcnow
from fairserver.keys import DB
from fairserver.store import tables as t
from tests.factories import PASSWORD, World


async def _register(client: TestClient[Any, Any], csrf_of: Any, **fields: str) -> Any:
    page = await client.get("/register")
    data = {
        "email": "new@student.test",
        "password": "long-enough-pw",
        "display_name": "New",
        "school": "school-a",
        "student_no": "A002",
        "real_name": "Roster Only",
        "major": "Petrochemistry",
        "degree": "diploma",
        "graduation_year": "2027",
        "csrf_token": csrf_of(await page.text()),
    }
    data.update(fields)
    return await client.post("/register", data=data, allow_redirects=False)


async def post_login(
    client: TestClient[Any, Any], world: World, csrf_of: Any, **extra: str
) -> ClientResponse:
    """student_a's log-in form, with its CSRF token and any extra fields, not followed."""
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={
            "email": world.emails["student_a"],
            "password": PASSWORD,
            "csrf_token": csrf_of(await page.text()),
            **extra,
        },
        allow_redirects=False,
    )


async def test_register_matching_roster_is_verified(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    response = await _register(client, csrf_of)
    assert response.status == 303
    profile = await (await client.get("/profile")).text()
    assert "Verified" in profile
    # The campus fair of school A opens for a verified school-A student.
    assert (await client.get("/fairs/campus")).status == 200


async def test_register_off_roster_is_not_verified(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    response = await _register(client, csrf_of, student_no="A555", real_name="Somebody Else")
    assert response.status == 303
    assert "Not verified" in await (await client.get("/profile")).text()
    assert (await client.get("/fairs/campus")).status == 404


async def test_register_rejects_bad_input_with_messages(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    response = await _register(
        client, csrf_of, display_name="x" * 500, password="short", graduation_year="soon"
    )
    assert response.status == 400
    html = await response.text()
    assert "Too long: at most 100 characters." in html
    assert "at least 10 characters" in html
    assert 'aria-invalid="true"' in html


async def test_register_duplicate_email(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    response = await _register(client, csrf_of, email=world.emails["student_a"])
    assert response.status == 400
    assert "already exists" in await response.text()


async def test_login_wrong_password(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "email": world.emails["student_a"],
            "password": "nope",
            "csrf_token": csrf_of(await page.text()),
        },
    )
    assert response.status == 400
    assert "Wrong e-mail or password." in await response.text()


async def test_session_cookie_flags_and_logout(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    login = await post_login(client, world, csrf_of)
    cookie = next(c for c in login.headers.getall("Set-Cookie") if c.startswith("fs_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    token = csrf_of(await (await client.get("/profile")).text())
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert "Log in" in await (await client.get("/")).text()
    # The old token is gone from the server, not only from the browser.
    assert (await client.get("/fairs/campus")).status == 404


async def test_post_without_csrf_is_refused(client: TestClient[Any, Any], world: World) -> None:
    await world.login(client, "student_a")
    response = await client.post("/logout", data={}, allow_redirects=False)
    assert response.status == 403
    # Still logged in: the refused request changed nothing.
    assert "student_a" in await (await client.get("/")).text()


async def test_cross_origin_post_is_refused(client: TestClient[Any, Any], world: World) -> None:
    token = await world.login(client, "student_a")
    response = await client.post(
        "/logout",
        data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert response.status == 403


async def test_language_by_accept_language_and_choice(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    zh = await client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-Hans">' in await zh.text()
    page = await client.get("/login")
    response = await client.post(
        "/lang",
        data={"locale": "zh_Hans", "next": "/login", "csrf_token": csrf_of(await page.text())},
        allow_redirects=False,
    )
    assert response.status == 303
    assert '<html lang="zh-Hans">' in await (await client.get("/login")).text()


async def test_healthz(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["database"] == {"ok": True, "dialect": "sqlite"}


async def test_security_headers(client: TestClient[Any, Any]) -> None:
    response = await client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_script_in_student_names_renders_inert(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    evil = "<script>alert(1)</script>"
    response = await _register(
        client,
        csrf_of,
        display_name=evil,
        real_name="<svg onload=alert(1)>\u202eevil",
        student_no="A777",
    )
    assert response.status == 303
    profile = await (await client.get("/profile")).text()
    assert "<script>alert(1)" not in profile and "&lt;script&gt;alert(1)&lt;/script&gt;" in profile
    assert "<svg onload" not in profile and "\u202e" not in profile
    # The career office's student list shows the same names, escaped.
    await client.post("/logout", data={"csrf_token": csrf_of(profile)})
    await world.login(client, "organiser_a")
    students = await (await client.get("/organiser/students")).text()
    assert "&lt;svg onload=alert(1)&gt;evil" in students
    assert "<svg onload" not in students and "<script>alert" not in students


async def test_forwarded_origin_counts_only_from_a_trusted_proxy(
    tmp_path: Any, world: World
) -> None:
    from aiohttp.test_utils import TestServer

    from fairserver.app import create_app
    from tests.conftest import test_settings

    # The test client connects from 127.0.0.1: trusted here, so nginx-style TLS works...
    app = create_app(test_settings(tmp_path, trusted_proxies=("127.0.0.1/32",)))
    async with TestClient(TestServer(app)) as proxied:
        page = await proxied.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert token
        headers = {
            "Origin": "https://fair.example.edu",
            "X-Forwarded-Host": "fair.example.edu",
            "X-Forwarded-Proto": "https",
        }
        response = await proxied.post(
            "/login",
            data={"email": "x@y.z", "password": "p", "csrf_token": token.group(1)},
            headers=headers,
        )
        assert response.status == 400  # reached the form: wrong password, not a refused origin


async def test_forwarded_origin_from_an_untrusted_peer_is_refused(
    client: TestClient[Any, Any], csrf_of: Any
) -> None:
    page = await client.get("/login")
    headers = {
        "Origin": "https://evil.example",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
    }
    response = await client.post(
        "/login",
        data={"email": "x@y.z", "password": "p", "csrf_token": csrf_of(await page.text())},
        headers=headers,
    )
    assert response.status == 403


# A `next` that a browser would resolve to another site, or that cannot go in a header.
# Browsers drop tab, CR and LF anywhere in a URL, so "/\t/evil.example" means "//evil.example".
HOSTILE_NEXT = [
    "/\t/evil.example/phish",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "//evil.example",
    "/\\evil.example",
    "https://evil.example/",
    "/ok\r\nSet-Cookie: x=1",
    "/\x00/evil.example",
    "/\u2028/evil.example",
]


async def test_hostile_next_after_login_stays_on_the_site(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    for target in HOSTILE_NEXT:
        client.session.cookie_jar.clear()
        response = await post_login(client, world, csrf_of, next=target)
        assert response.status == 303, (target, await response.text())
        assert response.headers["Location"] == "/", target
        # The session the login made is kept: the reply was written whole.
        assert "student_a" in await (await client.get("/")).text(), target


async def test_a_plain_next_is_kept(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    response = await post_login(client, world, csrf_of, next="/fairs/campus/jobs?q=a%20b")
    assert response.headers["Location"] == "/fairs/campus/jobs?q=a%20b"


async def test_hostile_next_when_choosing_a_language(
    client: TestClient[Any, Any], csrf_of: Any
) -> None:
    for target in HOSTILE_NEXT:
        page = await client.get("/login")
        response = await client.post(
            "/lang",
            data={"locale": "zh_Hans", "next": target, "csrf_token": csrf_of(await page.text())},
            allow_redirects=False,
        )
        assert response.status == 303, target
        assert response.headers["Location"] == "/", target


async def test_logging_in_with_a_stale_session_cookie_keeps_the_new_session(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    # A browser still holding a cookie of a session that ended (expired, logged out elsewhere).
    page = await client.get("/login")
    # Set after the page: that GET's answer clears an unknown cookie, as it should.
    client.session.cookie_jar.update_cookies({"fs_session": "stale-" + "x" * 40})
    response = await client.post(
        "/login",
        data={
            "email": world.emails["student_a"],
            "password": PASSWORD,
            "csrf_token": csrf_of(await page.text()),
        },
        allow_redirects=False,
    )
    assert response.status == 303
    sessions = [c for c in response.headers.getall("Set-Cookie") if c.startswith("fs_session=")]
    assert len(sessions) == 1 and not sessions[0].startswith('fs_session="";'), sessions
    assert "Max-Age=0" not in sessions[0]
    assert "student_a" in await (await client.get("/")).text()


async def test_every_cookie_is_secure_under_secure_cookies(tmp_path: Any) -> None:
    from aiohttp.test_utils import TestServer

    from fairserver.app import create_app
    from tests.conftest import test_settings

    app = create_app(test_settings(tmp_path, secure_cookies=True))
    async with TestClient(TestServer(app)) as secure:
        page = await secure.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert token
        # The client does not send Secure cookies over plain http: send the CSRF one by hand.
        csrf_cookie = page.cookies["fs_csrf"].value
        response = await secure.post(
            "/lang",
            data={"locale": "zh_Hans", "next": "/login", "csrf_token": token.group(1)},
            headers={"Cookie": f"fs_csrf={csrf_cookie}"},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        cookies = response.headers.getall("Set-Cookie", []) + page.headers.getall("Set-Cookie", [])
        lang = [c for c in cookies if c.startswith("fs_lang=")]
        assert lang and all("Secure" in c for c in cookies), cookies


async def test_registration_offers_only_schools_that_enrol_students(
    client: TestClient[Any, Any], world: World, csrf_of: Any
) -> None:
    """Issue 11: registration listed the regional employment service as a school."""
    async with client.app[DB].begin() as conn:
        await conn.execute(
            t.schools.insert().values(
                slug="xz-hrss",
                name="Public Employment Service",
                enrols_students=False,
                created_at=utcnow(),
            )
        )
    page = await (await client.get("/register")).text()
    assert 'value="xz-hrss"' not in page and "Public Employment Service" not in page
    response = await client.post(
        "/register",
        data={
            "school": "xz-hrss",
            "student_no": "S-1",
            "real_name": "Test",
            "display_name": "Test",
            "email": "someone@example.test",
            "password": "a-long-password-1",
            "major": "Maths",
            "degree": "bachelor",
            "graduation_year": "2027",
            "csrf_token": csrf_of(page),
        },
    )
    assert response.status == 400
    assert "Choose your school from the list." in await response.text()
