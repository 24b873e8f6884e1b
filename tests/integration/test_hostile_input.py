"""Hostile and malformed requests: each gets a clear 4xx problem, never a 5xx."""

import pytest

from tests.tokens import bearer

pytestmark = pytest.mark.integration
BASE = "/api/v1/businesses/biz_1/customers"

# (what it tries, method, path, body or raw bytes, expected status)
ATTACKS = [
    ("operator injection in a field", "POST", "", {"email": {"$ne": None}}, 422),
    ("operator injection in the search", "GET", "?q[$regex]=.*", None, 200),
    ("regex metacharacters in the search", "GET", "?q=.*%5E(a%2B)%2B%24", None, 200),
    ("a 10 kB search string", "GET", "?q=" + "a" * 10_000, None, 422),
    ("a NUL byte in a name", "POST", "", {"first_name": "Ana\u0000"}, 201),
    ("a right-to-left override in a name", "POST", "", {"first_name": "\u202eanA"}, 201),
    ("an emoji-only name", "POST", "", {"first_name": "🙂🙂"}, 201),
    ("a JSON array as body", "POST", "", b"[]", 422),
    ("a JSON string as body", "POST", "", b'"hello"', 422),
    ("truncated JSON", "POST", "", b'{"first_name": "A', 400),
    ("a 100 kB body", "POST", "", b'{"first_name": "' + b"a" * 100_000 + b'"}', 413),
    ("deeply nested JSON", "POST", "", b'{"address": ' + b'{"a":' * 5000 + b"1" + b"}" * 5001, 400),
    ("an unknown field", "POST", "", {"first_name": "A", "is_admin": True}, 422),
    ("a business id set in the body", "POST", "", {"first_name": "A", "business_id": "biz_2"}, 422),
    ("a note author set in the body", "POST", "/{id}/notes", {"type": "issue", "content": "x", "author": "ceo"}, 422),
    ("an unknown note type", "POST", "/{id}/notes", {"type": "secret", "content": "x"}, 422),
    ("a 6,000 character note", "POST", "/{id}/notes", {"type": "issue", "content": "x" * 6000}, 422),
    ("a limit of 0", "GET", "?limit=0", None, 422),
    ("a limit of 101", "GET", "?limit=101", None, 422),
    ("a negative limit", "GET", "?limit=-5", None, 422),
    ("a forged cursor", "GET", "?cursor=eyJmYWtlIjp0cnVlfQ", None, 400),
    ("an unknown sort", "GET", "?sort=password", None, 422),
    ("an unknown status filter", "GET", "?status=everything", None, 422),
    ("a min_version of 0", "GET", "/{id}?min_version=0", None, 422),
    ("a huge min_version", "GET", "/{id}?min_version=99999999999999", None, 422),
    ("a path traversal as customer id", "GET", "/..%2F..%2Fadmin", None, 404),
    ("an operator as customer id", "GET", "/%7B%22%24gt%22%3A%22%22%7D", None, 404),
    ("a 5,000 character customer id", "PATCH", "/" + "c" * 5000, {"first_name": "A"}, 422),
    ("a stale If-Match", "PATCH", "/{id}", {"first_name": "B"}, 412),
    ("an invalid consent purpose", "PUT", "/{id}/consents/..%2Fx", {"granted": True}, 404),
    ("a consent without granted", "PUT", "/{id}/consents/marketing", {"source": "x"}, 422),
    ("merging a customer into itself", "POST", "/{id}/merge", {"source_customer_id": "{id}"}, 422),
    ("an invalid email", "POST", "", {"email": "a@b"}, 422),
    ("a phone of letters", "POST", "", {"phone": "call me maybe"}, 422),
    ("a country code of three letters", "POST", "", {"first_name": "A", "address": {"country": "PRT"}}, 422),
    ("21 attributes", "POST", "", {"first_name": "A", "attributes": {f"k{i}": i for i in range(21)}}, 422),
    ("an OPTIONS request", "OPTIONS", "/{id}", None, 204),
    ("a nested attribute value", "POST", "", {"first_name": "A", "attributes": {"k": {"x": 1}}}, 422),
]


@pytest.fixture
async def customer_id(api, settings) -> str:
    return (await api.post(BASE, json={"first_name": "Ana"}, headers=bearer(settings))).json()["id"]


@pytest.mark.parametrize(("attack", "method", "path", "body", "expected"), ATTACKS, ids=[a[0] for a in ATTACKS])
async def test_a_hostile_request_gets_a_clear_client_error(
    api, settings, customer_id, attack, method, path, body, expected
):
    headers = {**bearer(settings, roles=("admin",))}
    if "If-Match" in attack:
        headers["If-Match"] = '"7"'
    url = BASE + path.replace("{id}", customer_id)
    if isinstance(body, bytes):
        response = await api.request(method, url, content=body, headers={**headers, "content-type": "application/json"})
    elif body is not None:
        body = {
            key: (value.replace("{id}", customer_id) if isinstance(value, str) else value)
            for key, value in body.items()
        }
        response = await api.request(method, url, json=body, headers=headers)
    else:
        response = await api.request(method, url, headers=headers)
    assert response.status_code == expected, (attack, response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), attack
