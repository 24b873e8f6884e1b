"""Sealing and unsealing personal fields: a round trip gives the payload back, the input is
never changed, and without the key the sealed fields are gone."""

import copy
import os

import pytest

from infrastructure.crypto.personal_data import SEALED, seal, unseal

pytestmark = pytest.mark.unit
PATHS = ("first_name", "taken.email", "taken.phone", "items[].content", "missing.field", "other.deep[].x")


def payload() -> dict:
    return {
        "first_name": "Ana",
        "taken": {"email": "ana@example.com", "phone": "+351912345678", "kept": 1},
        "items": [{"content": "a", "id": 1}, {"content": None, "id": 2}],
        "other": {"deep": [1, 2, 3]},
    }


def test_a_sealed_payload_opens_to_the_original_and_neither_call_changes_its_input():
    key, original = os.urandom(32), payload()
    before = copy.deepcopy(original)
    sealed = seal(original, PATHS, key, "cus_1")
    assert original == before
    assert SEALED in sealed["first_name"] and SEALED in sealed["taken"]["email"]
    assert SEALED in sealed["taken"]["phone"] and SEALED in sealed["items"][0]["content"]
    assert sealed["taken"]["kept"] == 1 and sealed["other"] == before["other"]
    sealed_copy = copy.deepcopy(sealed)
    assert unseal(sealed, PATHS, key, "cus_1") == before
    assert sealed == sealed_copy


def test_without_the_key_the_sealed_fields_are_dropped_and_the_rest_stays():
    sealed = seal(payload(), PATHS, os.urandom(32), "cus_1")
    opened = unseal(sealed, PATHS, None, "cus_1")
    assert "first_name" not in opened and "email" not in opened["taken"] and "phone" not in opened["taken"]
    assert opened["taken"]["kept"] == 1 and opened["other"] == {"deep": [1, 2, 3]}


def test_a_field_sealed_for_another_customer_does_not_open():
    key = os.urandom(32)
    sealed = seal(payload(), PATHS, key, "cus_1")
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        unseal(sealed, PATHS, key, "cus_2")
