import json

import pytest

from tests.projections import until_projected
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def test_a_registered_customer_can_be_read_back_through_the_read_model(api, workers, settings):
    headers = bearer(settings)
    created = await api.post(
        CUSTOMERS,
        json={"first_name": "Ana", "last_name": "Silva", "email": "Ana@Example.com", "phone": "912345678"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["phone"] == "+351912345678"
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"].endswith(f"/customers/{customer['id']}")
    assert int(created.headers["x-position"]) >= 1

    read = await api.get(f"{CUSTOMERS}/{customer['id']}?min_version=1", headers=headers)
    assert read.status_code == 200, read.text
    assert read.json() == customer
    assert read.headers["etag"] == '"1"'


async def test_the_read_model_document_holds_the_state_at_its_version(api, workers, settings, container):
    created = (await api.post(CUSTOMERS, json={"first_name": "Rui"}, headers=bearer(settings))).json()
    await api.get(f"{CUSTOMERS}/{created['id']}?min_version=1", headers=bearer(settings))
    # The cache shows a change first, then the read model's document has it.
    await until_projected(container)
    document = await container.database()["customer_details"].find_one({"_id": created["id"]})
    assert (document["business_id"], document["version"]) == ("biz_1", 1)
    assert document["state"]["first_name"] == "Rui"


async def test_a_version_the_customer_never_reached_is_a_client_error(api, workers, settings):
    created = (await api.post(CUSTOMERS, json={"first_name": "Rui"}, headers=bearer(settings))).json()
    response = await api.get(f"{CUSTOMERS}/{created['id']}?min_version=2", headers=bearer(settings))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "min_version"


async def test_another_business_sees_neither_the_customer_nor_its_versions(api, workers, settings):
    created = (await api.post(CUSTOMERS, json={"first_name": "Rui"}, headers=bearer(settings))).json()
    other = bearer(settings, business_ids=("biz_2",))
    for path in (f"{CUSTOMERS}/{created['id']}", f"{CUSTOMERS}/{created['id']}?min_version=1"):
        assert (await api.get(path, headers=other)).status_code == 404
    assert (await api.post(CUSTOMERS, json={"first_name": "X"}, headers=other)).status_code == 404


@pytest.mark.parametrize(
    ("claims", "description"),
    [
        ({"exp": 1}, "expired"),
        ({"sub": 5}, "subject not a string"),
        ({"business_ids": "biz_1"}, "business ids not a list"),
    ],
)
async def test_bad_tokens_get_401(api, settings, claims, description):
    response = await api.get(f"{CUSTOMERS}/cus_x", headers=bearer(settings, **claims))
    assert response.status_code == 401, description
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_token_signed_otherwise_or_with_alg_none_gets_401(api, settings):
    import jwt

    forged = jwt.encode(
        {"sub": "u", "business_ids": ["biz_1"], "roles": ["admin"], "exp": 2**31},
        "another-secret-that-is-long-enough-too",
    )
    unsigned = jwt.encode(
        {"sub": "u", "business_ids": ["biz_1"], "roles": ["admin"], "exp": 2**31}, None, algorithm="none"
    )
    for token in (forged, unsigned, "not-a-jwt"):
        response = await api.get(f"{CUSTOMERS}/cus_x", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
    assert (await api.get(f"{CUSTOMERS}/cus_x")).status_code == 401


async def test_a_viewer_cannot_register(api, settings):
    response = await api.post(CUSTOMERS, json={"first_name": "X"}, headers=bearer(settings, roles=("viewer",)))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "not-an-email"}, 422, "email"),
        ({"phone": "12"}, 422, "phone"),
        ({}, 422, "first_name"),
        ({"first_name": 5}, 422, "first_name"),
        ({"nickname": "x"}, 422, "nickname"),
        ({"first_name": "x" * 500}, 422, "first_name"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field(api, settings, body, status, field):
    response = await api.post(CUSTOMERS, json=body, headers=bearer(settings))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_malformed_and_oversized_bodies_are_client_errors(api, settings):
    headers = {**bearer(settings), "content-type": "application/json"}
    assert (await api.post(CUSTOMERS, content=b"{bad", headers=headers)).status_code == 400
    huge = b'{"first_name": "' + b"a" * 100_000 + b'"}'
    assert (await api.post(CUSTOMERS, content=huge, headers=headers)).status_code == 413


async def test_service_routes_answer_without_a_token(api):
    assert (await api.get("/health")).json() == {"status": "ok"}
    ready = await api.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"mongodb": "ok", "rabbitmq": "ok", "redis": "ok"}
    schema = (await api.get("/api/openapi.json")).json()
    assert "/api/v1/businesses/{business_id}/customers" in schema["paths"]
    assert (await api.get("/api/docs")).status_code == 200


async def test_the_event_catalogue_is_served_without_a_token(api):
    from infrastructure.event_catalogue import event_catalogue

    response = await api.get("/api/events")
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(event_catalogue()))
