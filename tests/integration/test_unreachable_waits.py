"""Read-your-writes waits only for what the event store already has: a version or position
that was never reached is a 422 at once. The read-your-writes wait is an hour here, so a
request that waited would time out instead of answering."""

import pytest

from infrastructure.settings import Settings
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"read_your_writes_wait_seconds": 3600.0})


def assert_refused(response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == field


async def test_a_version_beyond_the_stream_is_refused_without_waiting(api, settings):
    # No workers: nothing is ever projected, yet the answer comes from the event store at once.
    created = await api.post(CUSTOMERS, json={"first_name": "Rui"}, headers=bearer(settings))
    path = f"{CUSTOMERS}/{created.json()['id']}"
    for version in (2, 7, 2**31):
        assert_refused(await api.get(f"{path}?min_version={version}", headers=bearer(settings)), "min_version")
    # Another business learns nothing, and does not wait either.
    other = bearer(settings, business_ids=("biz_2",))
    for version in (1, 2):
        response = await api.get(
            f"/api/v1/businesses/biz_2/customers/{created.json()['id']}?min_version={version}", headers=other
        )
        assert response.status_code == 404
    assert (await api.get(f"{CUSTOMERS}/cus_unknown?min_version=1", headers=bearer(settings))).status_code == 404


async def test_a_projected_customer_asked_for_a_later_version_is_refused_at_once(api, workers, settings):
    created = await api.post(CUSTOMERS, json={"first_name": "Rui"}, headers=bearer(settings))
    path = f"{CUSTOMERS}/{created.json()['id']}"
    assert (await api.get(f"{path}?min_version=1", headers=bearer(settings))).status_code == 200
    assert_refused(await api.get(f"{path}?min_version=2", headers=bearer(settings)), "min_version")


async def test_a_position_beyond_the_head_is_refused_without_waiting(api, settings):
    created = await api.post(CUSTOMERS, json={"first_name": "Rui"}, headers=bearer(settings))
    head = int(created.headers["X-Position"])
    for route in ("", "/search?q=rui", "/repeat"):
        separator = "&" if "?" in route else "?"
        response = await api.get(f"{CUSTOMERS}{route}{separator}min_position={head + 1}", headers=bearer(settings))
        assert_refused(response, "min_position")
    # A business with no events at all.
    other = bearer(settings, business_ids=("biz_2",))
    assert_refused(await api.get("/api/v1/businesses/biz_2/customers?min_position=1", headers=other), "min_position")
