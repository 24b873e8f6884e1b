from datetime import UTC, datetime

import pytest

from application.errors import InvalidCursor
from application.page_cursors import PageCursors
from application.projections.customer_query_fields import SortField, derive_query_fields, search_key, total_spent_minor
from application.search_text import MAX_PREFIX_LENGTH, fold, prefixes, query_terms, words_of_email, words_of_phone
from domain.customer.metrics import PurchaseMetrics, Spend
from domain.customer.profile import CustomerSegment, CustomerType
from domain.customer.state import CustomerState

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def customer(customer_id="cus_1", **fields) -> CustomerState:
    return CustomerState(
        id=customer_id, business_id="biz_1", type=CustomerType.NEW, segment=CustomerSegment.WALK_IN,
        version=1, created_at=NOW, updated_at=NOW, **fields,
    )  # fmt: skip


def test_folding_drops_case_and_accents():
    assert fold("Ána ÓSCAR Çedilha Straße") == "ana oscar cedilha strasse"


def test_an_email_gives_its_whole_address_local_part_domain_and_their_parts():
    assert set(words_of_email("Ana.Silva@Example.com")) >= {
        "ana.silva@example.com",
        "ana.silva",
        "example.com",
        "ana",
        "silva",
        "example",
        "com",
    }


def test_a_phone_gives_its_digits_with_and_without_country_code_and_as_dialled_at_home():
    assert words_of_phone("+447911123456") == ["447911123456", "7911123456", "07911123456"]


def test_search_text_splits_into_folded_terms_but_a_phone_stays_one_term():
    assert query_terms("  Ána  SIL, ana ") == ["ana", "sil"]
    assert query_terms("+351 912 345-678") == ["351912345678"]
    assert query_terms("") == []


def test_prefixes_are_bounded_and_unique():
    found = prefixes(["anabela", "ana", "x" * 40])
    assert found.count("ana") == 1
    assert "anabel" in found and "x" * MAX_PREFIX_LENGTH in found and "x" * (MAX_PREFIX_LENGTH + 1) not in found


def test_query_fields_hold_search_prefixes_and_facets():
    fields = derive_query_fields(customer(first_name="Ána", last_name="Silva", tags=("vip",)))
    for key in (
        search_key("an"),
        search_key("silv"),
        "type:new",
        "segment:walk_in",
        "tag:vip",
        "repeat:false",
        "tier:none",
        "contactable:false",
    ):
        assert key in fields.terms + fields.facets, key
    assert search_key("lva") not in fields.terms
    assert not any(facet.startswith("q:") for facet in fields.facets)


def test_sort_keys_order_like_the_sort_and_are_unique():
    def last_name_key(name, customer_id):
        return derive_query_fields(customer(customer_id, last_name=name)).sort_keys[SortField.LAST_NAME]

    assert last_name_key("Ana", "cus_9") < last_name_key("Anabela", "cus_1") < last_name_key("Óscar", "cus_1")
    assert last_name_key("Silva", "cus_1") < last_name_key("silva", "cus_2")
    later = customer("cus_0").model_copy(update={"created_at": datetime(2026, 11, 24, tzinfo=UTC)})
    assert (
        derive_query_fields(customer("cus_9")).sort_keys[SortField.CREATED_AT]
        < derive_query_fields(later).sort_keys[SortField.CREATED_AT]
    )


def test_purchase_facets_and_sorts_follow_the_metrics():
    metrics = PurchaseMetrics(
        total_purchases=3,
        last_purchase_at=NOW,
        is_repeat_customer=True,
        frequency_tier="occasional",
        spend={"EUR": Spend(lifetime_value_minor=13500), "USD": Spend(lifetime_value_minor=2000)},
    )
    fields = derive_query_fields(customer(metrics=metrics))
    assert {"repeat:true", "tier:occasional"} <= set(fields.facets)
    never = derive_query_fields(customer("cus_2"))
    assert never.sort_keys[SortField.LAST_PURCHASE_AT] < fields.sort_keys[SortField.LAST_PURCHASE_AT]


@pytest.mark.parametrize(
    ("lifetime_values", "sorts_as"),
    [({}, 0), ({"EUR": 4500}, 4500), ({"EUR": 4500, "JPY": 90000}, 90000), ({"EUR": -1500}, 0)],
)
def test_total_spent_sorts_by_the_largest_lifetime_value_among_the_currencies(lifetime_values, sorts_as):
    metrics = PurchaseMetrics(
        spend={code: Spend(lifetime_value_minor=value) for code, value in lifetime_values.items()}
    )
    assert total_spent_minor(metrics) == sorts_as


CURSORS = PageCursors("a-signing-key-for-the-unit-tests-0123456789")


def test_a_cursor_round_trips_for_its_own_scope_only():
    cursor = CURSORS.encode({"k": "000123\x01cus_1", "i": False}, "biz_1 -created_at fingerprint")
    assert CURSORS.decode(cursor, "biz_1 -created_at fingerprint") == {"k": "000123\x01cus_1", "i": False}
    for other_scope in ("biz_2 -created_at fingerprint", "biz_1 created_at fingerprint"):
        with pytest.raises(InvalidCursor):
            CURSORS.decode(cursor, other_scope)
    with pytest.raises(InvalidCursor):
        PageCursors("another-key-another-key-another-key-!!").decode(cursor, "biz_1 -created_at fingerprint")


def test_a_cursor_whose_content_was_changed_is_refused():
    import base64
    import json

    body, _, signature = CURSORS.encode({"k": "000123\x01cus_1", "i": False}, "scope").partition(".")
    content = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    content["k"] = "9" * 5000
    forged = base64.urlsafe_b64encode(json.dumps(content).encode()).decode().rstrip("=")
    with pytest.raises(InvalidCursor):
        CURSORS.decode(f"{forged}.{signature}", "scope")


@pytest.mark.parametrize("garbage", ["", "!!!", "bm90IGpzb24", "eyJ2IjoyfQ", "W10", "eyJ2IjoyfQ.", ".abc", "a.b.c"])
def test_a_cursor_this_service_did_not_make_is_refused(garbage):
    with pytest.raises(InvalidCursor):
        CURSORS.decode(garbage, "scope")


BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_another_spelling_of_the_same_bytes_is_refused():
    """Base64 is malleable: characters outside the alphabet are dropped when decoding, and
    the 2 spare bits of a 32-byte signature's last character are ignored. Only the spelling
    the service wrote reads."""
    cursor = CURSORS.encode({"k": "000123\x01cus_1", "i": False}, "scope")
    value = BASE64URL.index(cursor[-1])
    same_bytes = BASE64URL[value ^ 1]  # differs only in a spare bit
    for respelled in (cursor + "!", cursor + "\n", cursor + "=", cursor[:-1] + same_bytes, "\t" + cursor):
        with pytest.raises(InvalidCursor):
            CURSORS.decode(respelled, "scope")
