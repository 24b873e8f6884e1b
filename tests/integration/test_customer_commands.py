import asyncio

import pytest

from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


@pytest.fixture(autouse=True)
def running_workers(workers):
    """Relay and projector run for every test here: some read their writes back."""
    return workers


async def register(api, settings, **body) -> dict:
    response = await api.post(CUSTOMERS, json=body, headers=bearer(settings))
    assert response.status_code == 201, response.text
    return response.json()


async def test_fifty_concurrent_registrations_with_one_email_make_one_customer(api, settings, container):
    responses = await asyncio.gather(
        *(
            api.post(
                CUSTOMERS,
                json={"first_name": f"N{index}", "email": "Same@Example.com" if index % 2 else "same@example.com"},
                headers=bearer(settings),
            )
            for index in range(50)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 49
    [created] = [response.json() for response in responses if response.status_code == 201]
    for response in responses:
        if response.status_code == 409:
            assert response.json()["existing_customer_id"] == created["id"]
            assert response.headers["content-type"].startswith("application/problem+json")
    assert await container.database()["events"].count_documents({}) == 1


async def test_twenty_patches_with_one_if_match_give_one_success_and_nineteen_412(api, settings):
    customer = await register(api, settings, first_name="Ana")
    responses = await asyncio.gather(
        *(
            api.patch(
                f"{CUSTOMERS}/{customer['id']}",
                json={"last_name": f"L{index}"},
                headers={**bearer(settings), "If-Match": '"1"'},
            )
            for index in range(20)
        )
    )
    assert sorted(response.status_code for response in responses) == [200] + [412] * 19
    stale = next(response for response in responses if response.status_code == 412)
    assert stale.json()["current_version"] == 2


async def test_twenty_patches_without_if_match_lose_no_update(api, settings):
    customer = await register(api, settings, first_name="Ana")
    responses = await asyncio.gather(
        *(
            api.patch(
                f"{CUSTOMERS}/{customer['id']}", json={"attributes": {f"k{index}": index}}, headers=bearer(settings)
            )
            for index in range(20)
        )
    )
    assert all(response.status_code == 200 for response in responses), [
        r.text for r in responses if r.status_code != 200
    ]
    final = await api.get(f"{CUSTOMERS}/{customer['id']}?min_version=21", headers=bearer(settings))
    assert final.status_code == 200, final.text
    assert final.json()["attributes"] == {f"k{index}": index for index in range(20)}


async def test_patch_put_and_the_etag_follow_the_version(api, settings):
    customer = await register(api, settings, first_name="Ana", tags=["a"], segment="vip")
    patched = await api.patch(
        f"{CUSTOMERS}/{customer['id']}", json={"phone": "912 345 678", "tags": None}, headers=bearer(settings)
    )
    assert patched.status_code == 200
    assert (patched.json()["phone"], patched.json()["tags"], patched.json()["segment"]) == ("+351912345678", [], "vip")
    # The profile change, then the type's move from anonymous to new (an event of its own).
    assert (patched.headers["etag"], patched.json()["type"]) == ('"3"', "new")
    replaced = await api.put(
        f"{CUSTOMERS}/{customer['id']}", json={"last_name": "Silva"}, headers={**bearer(settings), "If-Match": '"3"'}
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert (body["first_name"], body["last_name"], body["phone"], body["segment"], body["type"]) == (
        None,
        "Silva",
        None,
        "walk_in",
        "anonymous",
    )
    nothing = await api.patch(f"{CUSTOMERS}/{customer['id']}", json={"last_name": "Silva"}, headers=bearer(settings))
    assert nothing.status_code == 200 and nothing.headers["etag"] == '"5"' and "x-position" not in nothing.headers


async def test_deleting_releases_the_email_and_restoring_then_clashes(api, settings):
    first = await register(api, settings, email="ana@example.com")
    deleted = await api.delete(f"{CUSTOMERS}/{first['id']}", headers=bearer(settings, roles=("manager",)))
    assert deleted.status_code == 204
    blocked = await api.patch(f"{CUSTOMERS}/{first['id']}", json={"first_name": "X"}, headers=bearer(settings))
    assert blocked.status_code == 409
    second = await register(api, settings, email="ANA@example.com")
    restored = await api.post(f"{CUSTOMERS}/{first['id']}/restore", headers=bearer(settings, roles=("manager",)))
    assert restored.status_code == 409
    assert restored.json()["existing_customer_id"] == second["id"]


async def test_deleting_needs_a_manager(api, settings):
    customer = await register(api, settings, first_name="Ana")
    assert (await api.delete(f"{CUSTOMERS}/{customer['id']}", headers=bearer(settings))).status_code == 403


async def test_a_note_gets_its_author_from_the_token(api, settings):
    customer = await register(api, settings, first_name="Ana")
    response = await api.post(
        f"{CUSTOMERS}/{customer['id']}/notes",
        json={"type": "issue", "content": "late twice"},
        headers=bearer(settings, subject="user_42"),
    )
    assert response.status_code == 201, response.text
    note = response.json()
    assert (note["author"], note["type"], note["content"], note["customer_id"]) == (
        "user_42",
        "issue",
        "late twice",
        customer["id"],
    )
    assert response.headers["location"].endswith(f"/notes/{note['id']}")
    spoofed = await api.post(
        f"{CUSTOMERS}/{customer['id']}/notes",
        json={"type": "issue", "content": "x", "author": "someone_else"},
        headers=bearer(settings),
    )
    assert spoofed.status_code == 422


async def test_preferences_and_the_consent_log(api, settings):
    customer = await register(api, settings, first_name="Ana")
    path = f"{CUSTOMERS}/{customer['id']}"
    preferences = await api.patch(
        f"{path}/preferences", json={"contact_channels": {"sms": True}, "language": "pt"}, headers=bearer(settings)
    )
    assert preferences.status_code == 200, preferences.text
    assert preferences.json()["preferences"]["contact_channels"]["sms"] is True
    assert (
        await api.patch(f"{path}/preferences", json={"language": "not a language"}, headers=bearer(settings))
    ).status_code == 422
    granted = await api.put(
        f"{path}/consents/marketing_email",
        json={"granted": True, "source": "signup_form", "legal_basis": "consent"},
        headers=bearer(settings),
    )
    withdrawn = await api.put(
        f"{path}/consents/marketing_email", json={"granted": False, "source": "link"}, headers=bearer(settings)
    )
    assert granted.status_code == withdrawn.status_code == 200
    consent = withdrawn.json()["consents"]["marketing_email"]
    assert (consent["granted"], consent["source"]) == (False, "link")
    assert (
        await api.put(f"{path}/consents/Bad Purpose!", json={"granted": True}, headers=bearer(settings))
    ).status_code in (404, 422)


async def test_a_merge_moves_the_sources_data_and_its_phone_to_the_target(api, settings):
    target = await register(api, settings, first_name="Ana", email="ana@example.com")
    source = await register(api, settings, last_name="Silva", phone="912345678")
    await api.post(
        f"{CUSTOMERS}/{source['id']}/notes",
        json={"type": "personal", "content": "from source"},
        headers=bearer(settings),
    )
    merged = await api.post(
        f"{CUSTOMERS}/{target['id']}/merge",
        json={"source_customer_id": source["id"]},
        headers=bearer(settings, roles=("manager",)),
    )
    assert merged.status_code == 200, merged.text
    assert (merged.json()["last_name"], merged.json()["phone"]) == ("Silva", "+351912345678")
    read_source = await api.get(f"{CUSTOMERS}/{source['id']}?min_version=3", headers=bearer(settings))
    assert (read_source.json()["status"], read_source.json()["merged_into"]) == ("merged", target["id"])
    clash = await api.post(CUSTOMERS, json={"phone": "+351912345678"}, headers=bearer(settings))
    assert clash.json()["existing_customer_id"] == target["id"]
    again = await api.post(
        f"{CUSTOMERS}/{target['id']}/merge",
        json={"source_customer_id": source["id"]},
        headers=bearer(settings, roles=("manager",)),
    )
    assert again.status_code == 409
    itself = await api.post(
        f"{CUSTOMERS}/{target['id']}/merge",
        json={"source_customer_id": target["id"]},
        headers=bearer(settings, roles=("manager",)),
    )
    assert itself.status_code == 422
    unknown = await api.post(
        f"{CUSTOMERS}/{target['id']}/merge",
        json={"source_customer_id": "cus_nope"},
        headers=bearer(settings, roles=("manager",)),
    )
    assert unknown.status_code == 422


async def test_an_idempotency_key_replays_the_first_response_and_refuses_another_body(api, settings, container):
    headers = {**bearer(settings), "Idempotency-Key": "order-7-attendee-1"}
    first = await api.post(CUSTOMERS, json={"first_name": "Ana", "email": "a@example.com"}, headers=headers)
    again = await api.post(
        CUSTOMERS,
        content=b'{"email": "a@example.com",  "first_name": "Ana"}',
        headers={**headers, "content-type": "application/json"},
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["x-position"] == first.headers["x-position"]
    other = await api.post(CUSTOMERS, json={"first_name": "Bea"}, headers=headers)
    assert other.status_code == 422
    assert await container.database()["events"].count_documents({}) == 1


async def test_concurrent_requests_with_one_idempotency_key_create_one_customer(api, settings, container):
    headers = {**bearer(settings), "Idempotency-Key": "same-key"}
    responses = await asyncio.gather(
        *(api.post(CUSTOMERS, json={"first_name": "Ana"}, headers=headers) for _ in range(10))
    )
    created = {response.json()["id"] for response in responses if response.status_code == 201}
    assert len(created) == 1
    assert all(response.status_code in (201, 409) for response in responses)
    assert await container.database()["events"].count_documents({}) == 1


async def test_every_append_writes_the_snapshot_and_a_stale_one_is_caught_up_from_the_events(api, settings, container):
    customer = await register(api, settings, first_name="Ana")
    snapshots = container.database()["customer_snapshots"]
    stale = None
    for index in range(6):
        response = await api.patch(
            f"{CUSTOMERS}/{customer['id']}", json={"attributes": {"n": index}}, headers=bearer(settings)
        )
        assert response.status_code == 200
        if index == 2:
            stale = await snapshots.find_one({"_id": customer["id"]})
    snapshot = await snapshots.find_one({"_id": customer["id"]})
    assert snapshot["version"] == 7
    # A snapshot left behind its stream (it never is, but say so): the next command
    # conflicts, reads the events after it, and decides on the real state.
    await snapshots.replace_one({"_id": customer["id"]}, stale)
    last = await api.patch(f"{CUSTOMERS}/{customer['id']}", json={"last_name": "Silva"}, headers=bearer(settings))
    assert (last.json()["version"], last.json()["attributes"], last.json()["last_name"]) == (8, {"n": 5}, "Silva")


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("patch", "", {"first_name": "X"}),
        ("put", "", {"first_name": "X"}),
        ("post", "/notes", {"type": "issue", "content": "x"}),
        ("patch", "/preferences", {"language": "pt"}),
        ("put", "/consents/marketing", {"granted": True}),
        ("post", "/restore", None),
        ("delete", "", None),
    ],
)
async def test_commands_on_an_unknown_or_foreign_customer_are_404(api, settings, method, suffix, body):
    customer = await register(api, settings, first_name="Ana")
    headers = bearer(settings, roles=("admin",))
    foreign = bearer(settings, business_ids=("biz_2",), roles=("admin",))
    kwargs = {"json": body} if body is not None else {}
    unknown = await api.request(method.upper(), f"{CUSTOMERS}/cus_unknown{suffix}", headers=headers, **kwargs)
    assert unknown.status_code == 404
    other_tenant = await api.request(
        method.upper(), f"/api/v1/businesses/biz_2/customers/{customer['id']}{suffix}", headers=foreign, **kwargs
    )
    assert other_tenant.status_code == 404


async def test_a_malformed_if_match_or_idempotency_key_is_a_400(api, settings):
    customer = await register(api, settings, first_name="Ana")
    bad_if_match = await api.patch(
        f"{CUSTOMERS}/{customer['id']}",
        json={"first_name": "X"},
        headers={**bearer(settings), "If-Match": "version-one"},
    )
    assert bad_if_match.status_code == 400
    bad_key = await api.post(
        CUSTOMERS, json={"first_name": "X"}, headers={**bearer(settings), "Idempotency-Key": "k" * 256}
    )
    assert bad_key.status_code == 400


async def test_notes_are_listed_newest_first_in_pages(api, settings):
    customer = await register(api, settings, first_name="Ana")
    for index in range(5):
        await api.post(
            f"{CUSTOMERS}/{customer['id']}/notes",
            json={"type": "personal", "content": f"n{index}"},
            headers=bearer(settings),
        )
    path = f"{CUSTOMERS}/{customer['id']}"
    assert (await api.get(f"{path}?min_version=6", headers=bearer(settings))).status_code == 200
    first = (await api.get(f"{path}/notes?limit=3", headers=bearer(settings))).json()
    second = (await api.get(f"{path}/notes?limit=3&cursor={first['next_cursor']}", headers=bearer(settings))).json()
    assert [note["content"] for note in first["items"] + second["items"]] == ["n4", "n3", "n2", "n1", "n0"]
    assert second["next_cursor"] is None
    assert (await api.get(f"{path}/notes?cursor=bogus", headers=bearer(settings))).status_code == 400


async def test_the_history_lists_every_change_with_who_when_and_which_fields(api, settings, container):
    customer = await register(api, settings, first_name="Ana")
    path = f"{CUSTOMERS}/{customer['id']}"
    await api.patch(path, json={"email": "ana@example.com"}, headers=bearer(settings, subject="user_2"))
    await api.put(f"{path}/consents/marketing", json={"granted": True}, headers=bearer(settings))
    await api.delete(path, headers=bearer(settings, roles=("manager",), subject="boss"))

    async def history() -> dict:
        return (await api.get(f"{path}/history?limit=2", headers=bearer(settings))).json()

    for _ in range(100):
        page = await history()
        # A problem document here is shown by the assertion below, not raised as a KeyError.
        if page.get("items") and page["items"][0]["version"] == 5:
            break
        await asyncio.sleep(0.05)
    assert [(item["event_type"], item["actor"]) for item in page.get("items", ())] == [
        ("customer.deleted", "boss"),
        ("customer.consent_recorded", "user_1"),
    ]
    rest = (await api.get(f"{path}/history?cursor={page['next_cursor']}", headers=bearer(settings))).json()
    assert [(item["event_type"], item["changed_fields"]) for item in rest["items"]] == [
        ("customer.type_changed", ["type"]),
        ("customer.updated", ["email"]),
        ("customer.registered", ["first_name", "type", "segment"]),
    ]
    assert "ana@example.com" not in str(page) + str(rest)
    assert (await api.get(f"{CUSTOMERS}/cus_nope/history", headers=bearer(settings))).status_code == 404
