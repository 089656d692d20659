"""Ranking of amendments and clarifications: pure functions, no database."""
import math

Z95 = 1.959963984540054


def wilson_lower_bound(up, down, z=Z95):
    """Lower bound of the Wilson score interval for the share of up votes; 0 with no votes.

    It rewards a large, consistent majority over a small one: (1, 0) ranks below (10, 2).
    """
    n = up + down
    if n == 0:
        return 0.0
    p = up / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt((p * (1 - p) + z2 / (4 * n)) / n)
    return (centre - margin) / (1 + z2 / n)


def wilson_interval(up, down, z=Z95):
    """(lower, upper) of the Wilson interval; (0, 0) with no votes. Used by the lab chart."""
    n = up + down
    if n == 0:
        return 0.0, 0.0
    p = up / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt((p * (1 - p) + z2 / (4 * n)) / n)
    return (centre - margin) / (1 + z2 / n), (centre + margin) / (1 + z2 / n)


def controversy(up, down):
    """(up + down) ** (min / max): many votes, evenly split, score highest; 0 if one-sided."""
    if up <= 0 or down <= 0:
        return 0.0
    return (up + down) ** (min(up, down) / max(up, down))


def sort_key(score, up, down, created_at, item_id):
    """Best first: higher score, then more votes, then earlier creation."""
    return (-score, -(up + down), created_at, item_id)
