"""Page cursors made by hypothesis from a real one (its key changed and re-encoded, bytes
flipped, cut, lengthened) and real cursors replayed on another business or query: every
one is a 400 problem, never a 5xx, and none reads a page."""

import pytest

from tests.forged_cursors import forgeries
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def test_forged_and_replayed_cursors_are_all_400_problems(api, workers, settings):
    headers = bearer(settings)
    position = 0
    for name in ("Ana Alves", "Bea Brito", "Carla Costa"):
        first, last = name.split()
        created = await api.post(CUSTOMERS, json={"first_name": first, "last_name": last}, headers=headers)
        position = int(created.headers["X-Position"])
    # min_position waits up to 2 s, then answers 503: a loaded machine may need another ask.
    for _ in range(30):
        listed = await api.get(CUSTOMERS, params={"limit": 1, "min_position": position}, headers=headers)
        if listed.status_code != 503:
            break
    assert listed.status_code == 200, listed.text
    cursor = listed.json()["next_cursor"]
    assert (await api.get(CUSTOMERS, params={"limit": 1, "cursor": cursor}, headers=headers)).status_code == 200

    replays = [
        ("/api/v1/businesses/biz_2/customers", {"limit": 1}, bearer(settings, business_ids=("biz_2",))),
        (CUSTOMERS, {"limit": 1, "sort": "last_name"}, headers),
        (CUSTOMERS, {"limit": 1, "q": "ana"}, headers),
        (CUSTOMERS, {"limit": 1, "segment": "vip"}, headers),
        (f"{CUSTOMERS}/repeat", {"limit": 1}, headers),
    ]
    for path, params, token in replays:
        response = await api.get(path, params={**params, "cursor": cursor}, headers=token)
        assert response.status_code == 400, (path, params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")

    for forged in forgeries(cursor, 150):
        response = await api.get(CUSTOMERS, params={"limit": 1, "cursor": forged}, headers=headers)
        assert response.status_code in (400, 422), (forged, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
