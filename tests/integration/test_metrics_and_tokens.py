"""Smaller attacks: scraping the API's metrics, tokens from elsewhere or forever, odd
business ids in paths."""

import time

import jwt
import pytest

from infrastructure.observability import scrape_gauges
from infrastructure.settings import Settings
from tests.conftest import METRICS_TOKEN, serve_api
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def test_metrics_need_the_metrics_token_and_are_not_served_without_one(settings):
    async with serve_api(settings) as api:
        for headers in ({}, {"Authorization": "Bearer guess"}, bearer(settings, roles=("admin",))):
            refused = await api.get("/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.headers["content-type"].startswith("application/problem+json")
        scraped = await api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert scraped.status_code == 200 and "crm_outbox_pending_events" in scraped.text
    async with serve_api(settings.model_copy(update={"metrics_token": ""})) as api:
        assert (await api.get("/metrics")).status_code == 404


async def test_scrapes_share_cached_gauges_instead_of_querying_each_time(settings, monkeypatch):
    refreshes = 0
    original = scrape_gauges.ScrapeGauges._from_mongodb

    async def counted(self):
        nonlocal refreshes
        refreshes += 1
        await original(self)

    monkeypatch.setattr(scrape_gauges.ScrapeGauges, "_from_mongodb", counted)
    async with serve_api(settings) as api:
        for _ in range(20):
            response = await api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            assert response.status_code == 200
    # Twenty scrapes well within MAX_AGE_SECONDS of each other: the database was asked once
    # (twice if the machine is slow enough for the cache to expire meanwhile).
    assert 1 <= refreshes < 20


def token(settings: Settings, **claims) -> dict[str, str]:
    payload = {"sub": "user_1", "business_ids": ["biz_1"], "roles": ["viewer"], "exp": int(time.time()) + 600}
    payload.update(claims)
    return {"Authorization": f"Bearer {jwt.encode(payload, settings.jwt_secret, algorithm='HS256')}"}


async def test_issuer_and_audience_are_enforced_when_configured(settings):
    strict = settings.model_copy(update={"jwt_issuer": "https://auth.example", "jwt_audience": "crm"})
    async with serve_api(strict) as api:
        good = token(strict, iss="https://auth.example", aud="crm")
        assert (await api.get(CUSTOMERS, headers=good)).status_code == 200
        for claims in ({}, {"iss": "https://evil.example", "aud": "crm"}, {"iss": "https://auth.example"},
                       {"iss": "https://auth.example", "aud": "billing"}):  # fmt: skip
            refused = await api.get(CUSTOMERS, headers=token(strict, **claims))
            assert refused.status_code == 401, claims
            assert refused.headers["content-type"].startswith("application/problem+json")


async def test_a_token_that_lives_longer_than_the_maximum_is_refused(settings):
    short = settings.model_copy(update={"jwt_max_lifetime_seconds": 3600})
    now = int(time.time())
    async with serve_api(short) as api:
        assert (await api.get(CUSTOMERS, headers=token(short, iat=now, exp=now + 3000))).status_code == 200
        for claims in ({"exp": now + 365 * 86400}, {"iat": now - 7200, "exp": now + 600}, {"iat": "soon"}):
            assert (await api.get(CUSTOMERS, headers=token(short, **claims))).status_code == 401, claims


@pytest.mark.parametrize("business_id", ["biz%201", "biz.1", "%24where", "b" * 65, "biz%0A1"])
async def test_a_business_id_outside_the_contracts_pattern_is_refused_before_any_read(api, settings, business_id):
    # The token may even name it: the id's shape is checked first, so it reaches no store.
    decoded = business_id.replace("%20", " ").replace("%24", "$").replace("%0A", "\n")
    headers = bearer(settings, business_ids=(decoded,))
    response = await api.get(f"/api/v1/businesses/{business_id}/customers", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
