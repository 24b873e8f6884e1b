"""Notes outside the customer's document: a customer shows its own notes and those of every
customer merged into it (directly or through another), newest first, in pages whose signed
cursor can't be forged; the export holds them all."""

import pytest

from tests.forged_cursors import forgeries
from tests.projections import until_projected
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def register(api, settings, name: str) -> dict:
    created = await api.post(CUSTOMERS, json={"first_name": name}, headers=bearer(settings))
    assert created.status_code == 201, created.text
    return created.json()


async def merge(api, settings, target: dict, source: dict) -> None:
    merged = await api.post(
        f"{CUSTOMERS}/{target['id']}/merge",
        json={"source_customer_id": source["id"]},
        headers=bearer(settings, roles=("manager",)),
    )
    assert merged.status_code == 200, merged.text


async def pages(api, settings, customer_id: str, limit: int) -> list[list[dict]]:
    found, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = await api.get(f"{CUSTOMERS}/{customer_id}/notes", params=params, headers=bearer(settings))
        assert page.status_code == 200, page.text
        found.append(page.json()["items"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return found


async def test_a_customer_pages_its_notes_and_those_merged_into_it_newest_first(api, workers, settings, container):
    target, source, earlier = [await register(api, settings, name) for name in ("Ana", "Bea", "Cat")]
    # Added in turn, so that the three customers' notes interleave in time.
    added = []
    for index in range(11):
        owner = (target, source, earlier)[index % 3]
        response = await api.post(
            f"{CUSTOMERS}/{owner['id']}/notes",
            json={"type": "personal", "content": f"n{index}"},
            headers=bearer(settings),
        )
        assert response.status_code == 201, response.text
        added.append(f"n{index}")
    await merge(api, settings, source, earlier)
    await merge(api, settings, target, source)
    await until_projected(container)

    for limit in (1, 2, 4, 100):
        found = await pages(api, settings, target["id"], limit)
        assert all(len(page) <= limit for page in found)
        assert [note["content"] for page in found for note in page] == added[::-1], limit
    # The source shows its own notes and those of the customer merged into it.
    of_source = [note["content"] for page in await pages(api, settings, source["id"], 3) for note in page]
    assert of_source == [content for index, content in enumerate(added) if index % 3][::-1]

    export = await api.get(f"{CUSTOMERS}/{target['id']}/export", headers=bearer(settings, roles=("manager",)))
    assert export.status_code == 200, export.text
    assert sorted(note["content"] for note in export.json()["notes"]) == sorted(added)


async def test_a_notes_cursor_cannot_be_forged_or_used_on_another_customer(api, workers, settings, container):
    customer, other = await register(api, settings, "Ana"), await register(api, settings, "Bea")
    for index in range(3):
        await api.post(
            f"{CUSTOMERS}/{customer['id']}/notes",
            json={"type": "issue", "content": f"n{index}"},
            headers=bearer(settings),
        )
    await until_projected(container)
    path = f"{CUSTOMERS}/{customer['id']}/notes"
    first = await api.get(path, params={"limit": 1}, headers=bearer(settings))
    cursor = first.json()["next_cursor"]
    assert (await api.get(path, params={"limit": 1, "cursor": cursor}, headers=bearer(settings))).status_code == 200

    replayed = await api.get(
        f"{CUSTOMERS}/{other['id']}/notes", params={"limit": 1, "cursor": cursor}, headers=bearer(settings)
    )
    assert replayed.status_code == 400, replayed.text
    for forged in forgeries(cursor, 60):
        response = await api.get(path, params={"limit": 1, "cursor": forged}, headers=bearer(settings))
        assert response.status_code in (400, 422), (forged, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
