"""Every route × every role, and every route from another tenant (table-driven)."""

import pytest

from interfaces.http.app import create_app
from interfaces.http.auth import ROLES
from tests.tokens import bearer

pytestmark = pytest.mark.integration
BASE = "/api/v1/businesses/{business_id}/customers"

# (method, path under BASE, body, the lowest role allowed). The contract's matrix: viewer
# reads; staff creates and changes customers, notes, preferences, consents; manager
# deletes, restores, merges, exports, imports; admin erases.
MATRIX = [
    ("GET", "", None, "viewer"),
    ("GET", "/search?q=ana", None, "viewer"),
    ("GET", "/repeat", None, "viewer"),
    ("GET", "/{id}", None, "viewer"),
    ("GET", "/{id}/notes", None, "viewer"),
    ("GET", "/{id}/history", None, "viewer"),
    ("GET", "/{id}/purchases", None, "viewer"),
    ("GET", "/{id}/metrics", None, "viewer"),
    ("POST", "", {"first_name": "New"}, "staff"),
    ("PATCH", "/{id}", {"last_name": "Silva"}, "staff"),
    ("PUT", "/{id}", {"first_name": "Ana"}, "staff"),
    ("POST", "/{id}/notes", {"type": "personal", "content": "hello"}, "staff"),
    ("PATCH", "/{id}/preferences", {"language": "pt"}, "staff"),
    ("PUT", "/{id}/consents/marketing", {"granted": True}, "staff"),
    ("DELETE", "/{id}", None, "manager"),
    ("POST", "/{id}/restore", None, "manager"),
    ("POST", "/{id}/merge", {"source_customer_id": "cus_other"}, "manager"),
    ("GET", "/{id}/export", None, "manager"),
    ("GET", "/export.csv", None, "manager"),
    ("POST", "/imports", {"first_name": "Ana"}, "manager"),  # JSON: a 415 once allowed
    ("GET", "/imports/imp_unknown", None, "manager"),
    ("POST", "/{id}/erase", None, "admin"),
]


def _template(path: str) -> str:
    path = path.split("?")[0].replace("{id}", "{customer_id}").replace("/marketing", "/{purpose}")
    return path.replace("/imp_unknown", "/{import_id}")


def test_the_matrix_covers_every_customer_route_of_the_app():
    app = create_app()
    served = {
        (method, route.path.replace(":str", "").removeprefix(BASE.replace("{business_id}", "{business_id}")))
        for route in app.routes
        if route.path.replace(":str", "").startswith(BASE)
        for method in getattr(route, "methods", ())
        if method not in ("OPTIONS", "HEAD")
    }
    covered = {(method, _template(path)) for method, path, _, _ in MATRIX}
    assert served == covered


@pytest.fixture(autouse=True)
def running_workers(workers):
    """The customer the routes address is projected, as in the running service."""
    return workers


@pytest.fixture
async def customer_id(api, settings) -> str:
    created = await api.post(BASE.format(business_id="biz_1"), json={"first_name": "Ana"}, headers=bearer(settings))
    return created.json()["id"]


@pytest.mark.parametrize(("method", "path", "body", "lowest"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
async def test_each_role_reaches_exactly_the_routes_of_the_matrix(
    api, settings, customer_id, method, path, body, lowest
):
    url = BASE.format(business_id="biz_1") + path.replace("{id}", customer_id)
    for role in ROLES:
        kwargs = {"json": body} if body is not None else {}
        response = await api.request(method, url, headers=bearer(settings, roles=(role,)), **kwargs)
        allowed = ROLES.index(role) >= ROLES.index(lowest)
        if allowed:
            assert response.status_code not in (401, 403) and response.status_code < 500, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.status_code)
            assert response.headers["content-type"].startswith("application/problem+json")
    unknown_role = await api.request(
        method, url, headers=bearer(settings, roles=("superuser",)), **({"json": body} if body is not None else {})
    )
    assert unknown_role.status_code == 403


async def test_options_answers_with_every_method_of_its_path_for_a_user_of_the_business(api, settings, customer_id):
    methods_by_path: dict[str, set[str]] = {}
    for method, path, _, _ in MATRIX:
        methods_by_path.setdefault(path.split("?")[0], set()).add(method)
    for path, methods in methods_by_path.items():
        url = BASE.format(business_id="biz_1") + path.replace("{id}", customer_id)
        answered = await api.options(url, headers=bearer(settings, roles=("viewer",)))
        assert answered.status_code == 204, (path, answered.text)
        assert set(answered.headers["allow"].split(", ")) == methods | {"OPTIONS"}, path
        assert (await api.options(url)).status_code == 401
        intruder = bearer(settings, business_ids=("biz_2",), roles=("admin",))
        assert (await api.options(url, headers=intruder)).status_code == 404


@pytest.mark.parametrize(("method", "path", "body", "lowest"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
async def test_another_business_gets_404_on_every_route(api, settings, customer_id, method, path, body, lowest):
    # An admin of biz_2 addressing biz_1's customer, by biz_1's path and by its own.
    intruder = bearer(settings, business_ids=("biz_2",), roles=("admin",))
    kwargs = {"json": body} if body is not None else {}
    for business_id in ("biz_1", "biz_2"):
        url = BASE.format(business_id=business_id) + path.replace("{id}", customer_id)
        response = await api.request(method, url, headers=intruder, **kwargs)
        if business_id == "biz_1" or "{id}" in path:
            assert response.status_code == 404, (business_id, response.status_code, response.text)
