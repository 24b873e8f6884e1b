"""Page cursors made by hypothesis from a real one (its key changed and re-encoded, bytes
flipped, cut, lengthened) and real cursors replayed on another business or query: every
one is a 400 problem, never a 5xx, and none reads a page."""

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.text(min_size=1000, max_size=3000),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _content(cursor: str) -> dict:
    body = cursor.partition(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def _rekeyed(cursor: str, field: str, value: object) -> str:
    """The attack of the issue: decode, change the key, re-encode, keep the signature."""
    content = {**_content(cursor), field: value}
    return f"{_b64(json.dumps(content).encode())}.{cursor.partition('.')[2]}"


def _flipped(cursor: str, index: int, character: str) -> str:
    index %= len(cursor)
    return cursor[:index] + character + cursor[index + 1 :]


def _forgeries(cursor: str, count: int) -> list[str]:
    fields = sorted(_content(cursor))
    strategy = st.one_of(
        st.builds(lambda field, value: _rekeyed(cursor, field, value), st.sampled_from(fields), json_values),
        st.builds(lambda index, char: _flipped(cursor, index, char), st.integers(0, 500), st.characters()),
        st.integers(1, len(cursor) - 1).map(lambda cut: cursor[:cut]),
        st.text(min_size=1, max_size=50).map(lambda tail: cursor + tail),
        st.text(max_size=200),
    ).filter(
        # No cursor at all is the first page; a URL past 8 kB is refused by the HTTP client
        # itself (and by servers in front of the service), before it reaches the cursor code.
        lambda forged: forged not in (cursor, "") and len(forged.encode()) <= 8_000
    )
    drawn: list[str] = []

    @settings(max_examples=count, database=None, suppress_health_check=list(HealthCheck), deadline=None)
    @given(strategy)
    def draw(forged: str) -> None:
        drawn.append(forged)

    draw()
    return drawn[:count]


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

    for forged in _forgeries(cursor, 150):
        response = await api.get(CUSTOMERS, params={"limit": 1, "cursor": forged}, headers=headers)
        assert response.status_code in (400, 422), (forged, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
