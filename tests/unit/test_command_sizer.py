"""Write commands sized by their time: readers wait behind one command at most."""

import pytest

from infrastructure.mongo.bulk_writes import FIRST_COMMAND, CommandSizer

pytestmark = pytest.mark.unit


def test_quick_commands_grow_twofold_at_most_up_to_the_most():
    sizer = CommandSizer(most=200, target_seconds=0.05)
    sizes = [sizer.size]
    for _ in range(6):
        sizer.took(sizer.size, 0.001)  # far under the target
        sizes.append(sizer.size)
    assert sizes == [FIRST_COMMAND, 20, 40, 80, 160, 200, 200]


def test_a_slow_command_shrinks_the_next_to_what_fits_the_target_at_once():
    sizer = CommandSizer(most=200, target_seconds=0.05)
    for _ in range(5):
        sizer.took(sizer.size, 0.001)
    assert sizer.size == 200
    sizer.took(200, 1.0)  # 5 ms an operation: 10 fit in 50 ms
    assert sizer.size == 10
    sizer.took(10, 2.0)  # slower than the target even alone
    assert sizer.size == 1


def test_it_never_starts_above_the_most():
    assert CommandSizer(most=3).size == 3
