"""Text helpers: numbers with their nouns agreeing; titles on one line; what shows."""
from forum.texts import as_line, counted, visible_length


def test_a_count_agrees_with_its_noun():
    assert counted(1, "support") == "1 support"
    assert [counted(n, "item") for n in (0, 2, 1500)] == ["0 items", "2 items", "1,500 items"]
    assert counted(2, "reply", "replies") == "2 replies"


def test_a_title_is_one_line_without_bidirectional_controls():
    assert as_line("  Line one\r\n5 9\n\u2028\"Fake\"\tcandidate ") == \
        'Line one 5 9 "Fake" candidate'
    # "Budget vote \u202eSEY si etov eht" shows as "Budget vote the vote is YES".
    assert as_line("Budget vote \u202eSEY si etov eht") == "Budget vote SEY si etov eht"
    assert as_line("Fair rents \u2067for all\u2069") == "Fair rents for all"
    assert as_line(None) == as_line(["a title"]) == ""


def test_only_characters_that_show_count():
    assert visible_length("\u200b" * 6) == 0 and visible_length("\u00ad\u00ad \u2060") == 0
    assert visible_length("\u3164" * 5 + "\u2800\u115f\ufe0f") == 0
    assert visible_length("Rent cap") == 7
    # A family emoji is three people joined by zero-width joiners: three that show.
    assert visible_length("\U0001F468\u200d\U0001F469\u200d\U0001F467") == 3
    assert visible_length("שכר דירה") == 7


def test_an_age_is_spelt_out_for_screen_readers():
    from forum.web import spoken_age

    assert [spoken_age(a) for a in ("just now", "1m", "11m", "3h", "1d", "2mo", "5y")] == [
        "just now", "1 minute ago", "11 minutes ago", "3 hours ago", "1 day ago",
        "2 months ago", "5 years ago"]
