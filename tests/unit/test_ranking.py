"""The ranking is pinned to DESIGN.md's reference values."""
import pytest

from forum.ranking import controversy, wilson_interval, wilson_lower_bound


@pytest.mark.parametrize("up,down,expected", [
    (1, 0, 0.2065), (5, 5, 0.2366), (10, 2, 0.5520), (100, 1, 0.9460)])
def test_wilson_reference_values(up, down, expected):
    assert round(wilson_lower_bound(up, down), 4) == expected


def test_no_votes_scores_zero():
    assert wilson_lower_bound(0, 0) == 0
    assert wilson_interval(0, 0) == (0, 0)


def test_large_consistent_majority_beats_small_unanimity():
    assert wilson_lower_bound(10, 2) > wilson_lower_bound(1, 0)
    assert wilson_lower_bound(0, 5) < wilson_lower_bound(1, 1)


def test_interval_contains_lower_bound():
    low, high = wilson_interval(7, 3)
    assert low == pytest.approx(wilson_lower_bound(7, 3))
    assert low < 0.7 < high


def test_controversy():
    assert controversy(10, 0) == 0
    assert controversy(0, 3) == 0
    assert controversy(5, 5) == 10
    assert controversy(10, 5) == pytest.approx(15 ** 0.5)
    assert controversy(50, 50) > controversy(5, 5) > controversy(9, 1)
