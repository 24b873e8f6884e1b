"""Notes and attributes of every size hypothesis makes up (four-byte characters, too many
keys, values too long or nested, bodies past the limit): each is accepted or refused with a
clear 4xx problem, never a 5xx, and an accepted one reads back as sent."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"
ALPHABET = st.sampled_from(["a", "é", "\u4e2d", "\U0001f600", " ", "\x00", "\ufeff"])

note_contents = st.one_of(
    st.text(ALPHABET, max_size=50),
    st.integers(4990, 5010).flatmap(lambda size: st.text(ALPHABET, min_size=size, max_size=size)),
    st.integers(5011, 20_000).map(lambda size: "\U0001f600" * size),  # past 64 KB at the top
)
attribute_values = st.one_of(
    st.text(ALPHABET, max_size=210),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2**63, -(2**63) - 1, 2**100]),  # past BSON's 64-bit integers
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
attributes = st.dictionaries(
    st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,45}", fullmatch=True), st.text(max_size=10)),
    attribute_values,
    max_size=25,
)


def draw(strategy, count: int) -> list:
    drawn: list = []

    @settings(max_examples=count, database=None, suppress_health_check=list(HealthCheck), deadline=None)
    @given(strategy)
    def collect(value) -> None:
        drawn.append(value)

    collect()
    return drawn[:count]


def assert_clear(response, *accepted: int) -> None:
    assert response.status_code < 500, response.text
    if response.status_code not in accepted:
        assert response.status_code in (400, 409, 413, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_notes_of_any_size_are_added_or_refused_clearly(api, settings):
    customer = (await api.post(CUSTOMERS, json={"first_name": "Ana"}, headers=bearer(settings))).json()
    for content in draw(note_contents, 60):
        response = await api.post(
            f"{CUSTOMERS}/{customer['id']}/notes",
            json={"type": "personal", "content": content},
            headers=bearer(settings),
        )
        assert_clear(response, 201)
        if response.status_code == 201:
            assert response.json()["content"].strip() == content.strip()


async def test_attributes_of_any_shape_are_stored_or_refused_clearly(api, settings):
    customer = (await api.post(CUSTOMERS, json={"first_name": "Ana"}, headers=bearer(settings))).json()
    too_big = await api.patch(
        f"{CUSTOMERS}/{customer['id']}", json={"attributes": {"n": 2**64}}, headers=bearer(settings)
    )
    assert too_big.status_code == 422, too_big.text  # was a 500: BSON can't hold it
    for drawn in draw(attributes, 80):
        response = await api.patch(
            f"{CUSTOMERS}/{customer['id']}", json={"attributes": drawn}, headers=bearer(settings)
        )
        assert_clear(response, 200)
