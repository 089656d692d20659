"""Text helpers: numbers with their nouns agreeing."""
from forum.texts import counted


def test_a_count_agrees_with_its_noun():
    assert counted(1, "support") == "1 support"
    assert [counted(n, "item") for n in (0, 2, 1500)] == ["0 items", "2 items", "1,500 items"]
    assert counted(2, "reply", "replies") == "2 replies"
