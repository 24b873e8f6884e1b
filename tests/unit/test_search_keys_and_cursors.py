from datetime import UTC, datetime

import pytest

from application.errors import InvalidCursor
from application.projections.customer_query_fields import (
    FrequencyTier,
    SortField,
    derive_query_fields,
    frequency_tier,
    search_key,
)
from application.queries.customer_cursor import decode_cursor, encode_cursor
from application.search_text import MAX_PREFIX_LENGTH, fold, prefixes, query_terms, words_of_email, words_of_phone
from domain.customer.aggregate import CustomerState
from domain.customer.profile import CustomerSegment, CustomerType

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
        "ana.silva@example.com", "ana.silva", "example.com", "ana", "silva", "example", "com"
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
    for key in (search_key("an"), search_key("silv"), "type:new", "segment:walk_in", "tag:vip", "repeat:false",
                "tier:none"):
        assert key in fields.lookup_keys, key
    assert search_key("lva") not in fields.lookup_keys


def test_sort_keys_order_like_the_sort_and_are_unique():
    def last_name_key(name, customer_id):
        return derive_query_fields(customer(customer_id, last_name=name)).sort_keys[SortField.LAST_NAME]

    assert last_name_key("Ana", "cus_9") < last_name_key("Anabela", "cus_1") < last_name_key("Óscar", "cus_1")
    assert last_name_key("Silva", "cus_1") < last_name_key("silva", "cus_2")
    later = customer("cus_0").model_copy(update={"created_at": datetime(2026, 11, 24, tzinfo=UTC)})
    assert derive_query_fields(customer("cus_9")).sort_keys[SortField.CREATED_AT] < derive_query_fields(
        later
    ).sort_keys[SortField.CREATED_AT]


@pytest.mark.parametrize(
    ("purchases", "tier"),
    [(0, "none"), (1, "one_time"), (2, "occasional"), (3, "occasional"), (4, "regular"), (9, "regular"),
     (10, "frequent")],
)  # fmt: skip
def test_frequency_tiers_follow_the_contract(purchases, tier):
    assert frequency_tier(purchases) == FrequencyTier(tier)


def test_a_cursor_round_trips_for_its_own_query_only():
    cursor = encode_cursor("-created_at", "000123\x01cus_1", "fingerprint")
    assert decode_cursor(cursor, "-created_at", "fingerprint") == "000123\x01cus_1"
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, "created_at", "fingerprint")
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, "-created_at", "other filters")


@pytest.mark.parametrize("garbage", ["", "!!!", "bm90IGpzb24", "eyJ2IjoyfQ", "W10"])
def test_a_cursor_this_service_did_not_make_is_refused(garbage):
    with pytest.raises(InvalidCursor):
        decode_cursor(garbage, "-created_at", "fingerprint")
