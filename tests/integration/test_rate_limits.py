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
        elsewhere = await api.get(
            "/api/v1/businesses/biz_2/customers?limit=1", headers=bearer(limited, business_ids=("biz_2",))
        )
        assert elsewhere.status_code == 200


async def test_another_tenants_users_cannot_spend_a_business_quota(settings):
    limited = settings.model_copy(update={"rate_limit_per_user": "100/minute", "rate_limit_per_business": "2/minute"})
    async with serve_api(limited) as api:
        attacker = bearer(limited, business_ids=("biz_2",), subject="attacker")
        for _ in range(5):
            assert (await api.get(f"{CUSTOMERS}?limit=1", headers=attacker)).status_code == 404
        # An id outside the contract's pattern never reaches Redis either.
        odd = bearer(limited, business_ids=("biz 1/../x",), subject="attacker")
        assert (await api.get("/api/v1/businesses/biz%201%2F..%2Fx/customers", headers=odd)).status_code == 404
        owners = [(await api.get(f"{CUSTOMERS}?limit=1", headers=bearer(limited))).status_code for _ in range(3)]
        assert owners == [200, 200, 429]


async def test_denied_requests_consume_no_quota(settings):
    limited = settings.model_copy(update={"rate_limit_per_user": "2/minute", "rate_limit_per_business": "3/minute"})
    async with serve_api(limited) as api:
        eager = [(await api.get(f"{CUSTOMERS}?limit=1", headers=bearer(limited, subject="eager"))) for _ in range(5)]
        assert [response.status_code for response in eager] == [200, 200, 429, 429, 429]
        # The three denied requests took nothing from the business: one request is left for others.
        patient = [
            (await api.get(f"{CUSTOMERS}?limit=1", headers=bearer(limited, subject="patient"))) for _ in range(2)
        ]
        assert [response.status_code for response in patient] == [200, 429]
        assert patient[0].headers["ratelimit-remaining"] == "0"


async def test_when_redis_is_down_each_process_enforces_the_limits_itself(settings):
    no_redis = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0", "rate_limit_per_user": "2/minute"})
    async with serve_api(no_redis) as api:
        responses = [await api.get(f"{CUSTOMERS}?limit=1", headers=bearer(no_redis)) for _ in range(3)]
        assert [response.status_code for response in responses] == [200, 200, 429], responses[-1].text
        assert responses[0].headers["ratelimit-limit"] == "2"
        assert responses[-1].headers["content-type"].startswith("application/problem+json")
        other = await api.get(f"{CUSTOMERS}?limit=1", headers=bearer(no_redis, subject="someone_else"))
        assert other.status_code == 200, other.text
