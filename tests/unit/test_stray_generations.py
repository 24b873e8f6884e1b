"""Which collections of a read model are strays of an old generation."""

from infrastructure.mongo.read_model_generations import generation_of
from infrastructure.mongo.retired_generations import strays

BASES = ["customer_details", "segments"]


def test_a_collection_name_gives_its_generation():
    assert generation_of("customer_details", "customer_details") == 0
    assert generation_of("customer_details__g12", "customer_details") == 12
    assert generation_of("customer_details__verify", "customer_details") is None
    assert generation_of("customer_details_x", "customer_details") is None


def test_only_generations_older_than_every_live_one_and_not_retired_are_strays():
    names = [
        "customer_details",  # g0: retired, waiting for its time
        "segments__g1",  # g1: older than every live generation
        "customer_details__g2",  # read and written
        "customer_details__g3",  # a build in progress
        "customer_details__verify",
        "customers",
    ]
    document = {"read": 2, "write": [2], "retired": [{"generation": 0}]}
    assert strays(document, BASES, names) == ["segments__g1"]


def test_during_a_switch_the_previous_generation_still_written_is_no_stray():
    document = {"read": 2, "write": [1, 2]}
    assert strays(document, BASES, ["customer_details", "customer_details__g1"]) == ["customer_details"]


def test_a_projection_never_rebuilt_has_no_strays():
    assert strays({"_id": "customer_details"}, BASES, ["customer_details", "segments"]) == []
