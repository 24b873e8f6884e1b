import pytest

from tests.conftest import serve_api
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def test_a_user_over_its_limit_gets_429_with_retry_after_and_others_do_not(settings):
    limited = settings.model_copy(update={"rate_limit_per_user": "3/minute", "rate_limit_per_business": "100/minute"})
    async with serve_api(limited) as api:
        responses = [await api.get(f"{CUSTOMERS}?limit=1", headers=bearer(limited, subject="eager")) for _ in range(4)]
        assert [response.status_code for response in responses] == [200, 200, 200, 429]
        assert [response.headers["ratelimit-remaining"] for response in responses] == ["2", "1", "0", "0"]
        refused = responses[-1]
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["ratelimit-limit"] == "3"
        other = await api.get(f"{CUSTOMERS}?limit=1", headers=bearer(limited, subject="patient"))
        assert other.status_code == 200
        assert (await api.get("/health")).status_code == 200  # public routes are not limited


async def test_a_business_limit_is_shared_by_its_users_only(settings):
    limited = settings.model_copy(update={"rate_limit_per_user": "100/minute", "rate_limit_per_business": "2/minute"})
    async with serve_api(limited) as api:
        statuses = [
            (await api.get(f"{CUSTOMERS}?limit=1", headers=bearer(limited, subject=f"user_{index}"))).status_code
            for index in range(3)
        ]
        assert statuses == [200, 200, 429]
        elsewhere = await api.get("/api/v1/businesses/biz_2/customers?limit=1",
                                  headers=bearer(limited, business_ids=("biz_2",)))
        assert elsewhere.status_code == 200


async def test_requests_pass_when_redis_is_down(settings):
    no_redis = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0", "rate_limit_per_user": "1/minute"})
    async with serve_api(no_redis) as api:
        for _ in range(3):
            response = await api.get(f"{CUSTOMERS}?limit=1", headers=bearer(no_redis))
            assert response.status_code == 200, response.text
            assert "ratelimit-limit" not in response.headers
