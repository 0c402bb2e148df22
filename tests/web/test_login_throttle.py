"""Failed logins are throttled per email and per client address (token buckets in the database,
shared by every server process), on the API and the login page, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from commonweal.auth.models import LoginThrottle
from commonweal.clock import FakeClock
from commonweal.db.engine import transaction
from tests.helpers import PASSWORD, make_client

T0 = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)


def _client(world, clock):  # type: ignore[no-untyped-def]
    c = make_client(world.factory)
    c.app.state.clock = clock
    return c


def _api(c, email: str, password: str):  # type: ignore[no-untyped-def]
    return c.post("/api/v1/auth/login", json={"email": email, "password": password})


def test_five_wrong_passwords_then_wait_a_minute(world) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(T0)
    c = _client(world, clock)
    email = world.users["volunteer_a"][0]
    for _ in range(5):
        assert _api(c, email, "not the password").status_code == 401
    # the sixth try is refused before the password is even checked, the right one included
    r = _api(c, email, PASSWORD)
    assert r.status_code == 429, r.text
    assert r.headers["Retry-After"] == "60" and "try again in 60 seconds" in r.json()["detail"]
    # another person's email from the same client is not affected
    assert _api(c, world.users["coordinator_a"][0], PASSWORD).status_code == 200
    clock.advance(seconds=59)
    assert _api(c, email, PASSWORD).status_code == 429
    clock.advance(seconds=1)
    assert _api(c, email, PASSWORD).status_code == 200  # one try back per minute
    # a success clears the email's bucket: five more tries before the next wait
    for _ in range(5):
        assert _api(c, email, "still wrong").status_code == 401
    assert _api(c, email, "still wrong").status_code == 429
    # the table holds keyed hashes, never the email or the address
    with transaction(world.factory) as s:
        keys = s.scalars(select(LoginThrottle.key)).all()
    assert keys and not any(email in k or "testclient" in k for k in keys)
    assert all(re.fullmatch(r"(email|client):[0-9a-f]{64}", k) for k in keys)


def test_one_client_guessing_many_emails_is_slowed(world) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(T0)
    c = _client(world, clock)
    codes = [_api(c, f"guess{i}@example.org", "password123").status_code for i in range(31)]
    assert codes[:30] == [401] * 30 and codes[30] == 429
    clock.advance(seconds=10)
    assert _api(c, "guess99@example.org", "password123").status_code == 401


def test_the_login_page_says_so(world) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(T0)
    c = _client(world, clock)
    c.headers["accept"] = "text/html"
    email = world.users["volunteer_a"][0]

    def form(password: str):  # type: ignore[no-untyped-def]
        page = c.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        return c.post("/login", data={"email": email, "password": password, "next": "/",
                                      "login_token": token}, follow_redirects=False)

    for _ in range(5):
        assert form("nope").status_code == 401
    r = form(PASSWORD)
    assert r.status_code == 429 and "Too many failed logins: try again in 60 seconds" in r.text
