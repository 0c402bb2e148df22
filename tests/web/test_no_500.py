"""No input produces a 500: every route, called by an authorised admin with malformed input
(wrong types, out-of-range numbers, broken JSON, huge strings, unknown ids), answers 4xx."""

from __future__ import annotations

import re

from tests.helpers import login, make_client
from tests.web.test_api import iter_routes

JUNK_BODIES = [
    None,
    b"{not json",
    b"[]",
    b'{"name": 12, "kind": "nope", "lat": "north", "limit": -1}',
    b'{"display_name": "' + b"x" * 5000 + b'", "external_id": null}',
    b'{"from_member_id": 99999999999999999999, "to_member_id": "a", "kind": "kin"}',
]
JUNK_IDS = ["0", "-1", "999999999", "abc", "1e9", "%00"]


def test_malformed_input_never_gives_500(world) -> None:
    client = make_client(world.factory)
    login(client, *world.users["admin_a"])
    calls = 0
    for route in iter_routes(client.app.routes):
        params = re.findall(r"{(\w+)}", route.path)
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            for junk_id in JUNK_IDS:
                url = route.path
                for p in params:
                    url = url.replace("{" + p + "}", str(world.org_a) if p == "org_id" else junk_id)
                for body in JUNK_BODIES if method in ("POST", "PATCH", "PUT") else [None]:
                    r = client.request(method, url, content=body,
                                       params={"limit": "many", "offset": "-3", "q": "'; drop"},
                                       headers={"content-type": "application/json"})
                    assert r.status_code < 500, (method, url, body, r.status_code, r.text[:300])
                    calls += 1
    assert calls > 200
