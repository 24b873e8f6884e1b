"""The billing profile (contract v1.1): set with PATCH and PUT by staff; personal data,
so sealed in the event store, exported, and erased."""

import json

import pytest
from dependency_injector import providers

from infrastructure.container import Container
from infrastructure.runtime import start_storage, stop_storage
from tests.projections import until_projected
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"
BILLING = {
    "name": "Vandermolen Lda",
    "tax_id": "PT509999990",
    "invoice_email": "faturas.vdm@example.org",
    "address": {"line1": "Avenida Quintessencia 7", "city": "Braga", "country": "PT"},
}
TRACES = ["vandermolen", "pt509999990", "faturas.vdm", "quintessencia"]


async def registered(api, settings) -> str:
    response = await api.post(
        CUSTOMERS, json={"first_name": "Ana", "email": "ana@example.com"}, headers=bearer(settings)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def traces(document) -> list[str]:
    text = json.dumps(document, default=str).casefold()
    return [trace for trace in TRACES if trace in text]


async def test_staff_set_billing_with_patch_and_it_is_sealed_exported_and_erased(api, workers, settings, container):
    customer_id = await registered(api, settings)
    path = f"{CUSTOMERS}/{customer_id}"
    patched = await api.patch(path, json={"billing": BILLING}, headers=bearer(settings))
    assert patched.status_code == 200, patched.text
    assert patched.json()["billing"] == {
        **BILLING,
        "address": {**BILLING["address"], "line2": None, "postal_code": None},
    }
    read = await api.get(f"{path}?min_version={patched.json()['version']}", headers=bearer(settings))
    assert read.json()["billing"]["tax_id"] == "PT509999990"

    raw = await container.database()["events"].find_one(
        {"stream_id": customer_id, "event_type": "CustomerProfileUpdated"}
    )
    assert set(raw["payload"]["changes"]["billing"]) == {"$sealed"}
    assert traces(raw) == []

    exported = await api.get(f"{path}/export", headers=bearer(settings, roles=("manager",)))
    assert exported.status_code == 200
    assert exported.json()["customer"]["billing"]["invoice_email"] == "faturas.vdm@example.org"

    erased = await api.post(f"{path}/erase", headers=bearer(settings, roles=("admin",)))
    assert (erased.status_code, erased.json()["billing"]) == (200, None)
    await until_projected(container)
    database = container.database()
    found = [
        f"{name}: {trace}"
        for name in await database.list_collection_names()
        async for document in database[name].find()
        for trace in traces(document)
    ]
    assert found == []
    # Read by a process that has no key cached (this one's workers may keep it a few seconds):
    # the key is destroyed, so the sealed value reads as if it had never been there.
    fresh = Container()
    fresh.settings.override(providers.Object(settings))
    await start_storage(fresh)
    try:
        stream = await fresh.event_store().load_stream("biz_1", customer_id)
    finally:
        await stop_storage(fresh)
    [updated] = [recorded.event for recorded in stream if recorded.event.routing_key == "customer.updated"]
    assert "billing" not in updated.changes


async def test_put_replaces_billing_and_null_removes_it(api, settings):
    customer_id = await registered(api, settings)
    path = f"{CUSTOMERS}/{customer_id}"
    put = await api.put(
        path,
        json={"first_name": "Ana", "email": "ana@example.com", "billing": {"name": "Ana Lda"}},
        headers=bearer(settings),
    )
    assert put.status_code == 200, put.text
    assert put.json()["billing"] == {"name": "Ana Lda", "tax_id": None, "invoice_email": None, "address": None}
    cleared = await api.patch(path, json={"billing": None}, headers=bearer(settings))
    assert cleared.json()["billing"] is None
    empty = await api.patch(path, json={"billing": {"name": "  "}}, headers=bearer(settings))
    assert empty.json()["billing"] is None


@pytest.mark.parametrize(
    ("billing", "field"),
    [
        ({"invoice_email": "not an email"}, "billing.invoice_email"),
        ({"tax_id": "!!"}, "billing.tax_id"),
        ({"tax_id": "PT" + "9" * 40}, "billing.tax_id"),
        ({"name": "x" * 201}, "billing.name"),
        ({"iban": "PT50"}, "billing.iban"),
        ({"address": {"country": "Portugal"}}, "billing.address.country"),
    ],
)
async def test_bad_billing_is_a_422_naming_the_field(api, settings, billing, field):
    customer_id = await registered(api, settings)
    response = await api.patch(f"{CUSTOMERS}/{customer_id}", json={"billing": billing}, headers=bearer(settings))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_billing_needs_staff_and_the_customers_own_business(api, settings):
    customer_id = await registered(api, settings)
    viewer = await api.patch(
        f"{CUSTOMERS}/{customer_id}", json={"billing": BILLING}, headers=bearer(settings, roles=("viewer",))
    )
    assert viewer.status_code == 403
    other = await api.patch(
        f"/api/v1/businesses/biz_2/customers/{customer_id}",
        json={"billing": BILLING},
        headers=bearer(settings, business_ids=("biz_2",)),
    )
    assert other.status_code == 404
