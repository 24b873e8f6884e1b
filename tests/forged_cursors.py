"""Cursors forged by hypothesis from a real one: its content changed and re-encoded under
the old signature, bytes flipped, cut, lengthened, or made up."""

import base64
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def forgeries(cursor: str, count: int) -> list[str]:
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
