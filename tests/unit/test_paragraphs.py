"""Splitting Markdown into numbered paragraphs, and replacing ranges of them."""
from forum.paragraphs import (check_range, join, paragraph_diff, replace_range, split,
                              word_diff)

TEXT = """# Homes for all

We will build council homes at scale.
Every town gets its share.

- rent capped at a third of income
- secure tenancies

  with no-fault evictions ended

- repairs within a month

```
budget = homes * cost

total = budget + land
```

## Paying for it

> Land value capture funds it.

| year | homes |
|------|-------|
| 1    | 10k   |

1. first
2. second"""


def test_split_numbers_top_level_blocks():
    blocks = split(TEXT)
    assert blocks[0] == "# Homes for all"
    assert blocks[1] == "We will build council homes at scale.\nEvery town gets its share."
    assert blocks[2].startswith("- rent capped") and blocks[2].endswith("repairs within a month")
    assert "with no-fault evictions ended" in blocks[2]
    assert blocks[3].startswith("```") and "total = budget + land" in blocks[3]
    assert blocks[4] == "## Paying for it"
    assert blocks[5] == "> Land value capture funds it."
    assert blocks[6].startswith("| year")
    assert blocks[7] == "1. first\n2. second"
    assert len(blocks) == 8


def test_heading_without_blank_line_stands_alone():
    assert split("# Title\nText under it") == ["# Title", "Text under it"]


def test_fenced_block_keeps_blank_lines_and_fake_headings():
    blocks = split("Intro\n\n~~~\n# not a heading\n\n- not a list\n~~~\n\nOutro")
    assert blocks == ["Intro", "~~~\n# not a heading\n\n- not a list\n~~~", "Outro"]


def test_join_round_trips():
    assert split(join(split(TEXT))) == split(TEXT)


def test_replace_range_replaces_deletes_and_inserts():
    blocks = ["a", "b", "c"]
    assert replace_range(blocks, 2, 2, "B") == ["a", "B", "c"]
    assert replace_range(blocks, 2, 3, "") == ["a"]
    assert replace_range(blocks, 2, 1, "new\n\nnewer") == ["a", "new", "newer", "b", "c"]
    assert replace_range(blocks, 4, 3, "end") == ["a", "b", "c", "end"]
    assert replace_range(blocks, 1, 3, "all") == ["all"]


def test_check_range():
    assert check_range(3, 1, 3) is None
    assert check_range(3, 4, 3) is None  # insert at the end
    assert check_range(3, 2, 1) is None  # insert before 2
    assert "does not exist" in check_range(3, 5, 5)
    assert "does not exist" in check_range(3, 0, 1)
    assert "ends before it starts" in check_range(3, 3, 1)
    assert "does not exist" in check_range(3, 2, 4)


def test_word_diff_marks_insertions_and_deletions():
    diff = word_diff("rent capped at a third", "rent capped at a quarter of income")
    assert ("-", "third") in diff
    assert ("+", "quarter of income") in diff
    assert "".join(t for op, t in diff if op != "+") == "rent capped at a third"
    assert "".join(t for op, t in diff if op != "-") == "rent capped at a quarter of income"


def test_word_diff_leaves_a_word_alone_when_only_its_punctuation_changes():
    diff = word_diff("Homes are built to a high standard.",
                     "Homes are built to a high standard, with gardens.")
    assert [change for change in diff if change[0] != "="] == [("+", ", with gardens")]
    diff = word_diff("We don't cap rents.", "We don't cap rents, yet.")
    assert [change for change in diff if change[0] != "="] == [("+", ", yet")]


def test_a_fence_inside_a_list_item_keeps_the_list_one_paragraph():
    text = "- first\n\n  ```\n  code here\n  ```\n\n- second\n\nAfter."
    assert split(text) == ["- first\n\n  ```\n  code here\n  ```\n\n- second", "After."]


def test_a_rule_stands_alone_even_after_a_list():
    assert split("- one\n- two\n\n* * *\n\nNext.") == ["- one\n- two", "* * *", "Next."]
    assert split("Text above\n---\n") == ["Text above\n---"]  # a setext heading, not a rule
    assert split("Some text.\n\n***\nMore text.") == ["Some text.", "***", "More text."]


def test_an_indented_code_block_keeps_its_blank_lines():
    text = "Intro.\n\n    line one\n\n    line two\n\nOutro."
    assert split(text) == ["Intro.", "    line one\n\n    line two", "Outro."]


def test_an_unclosed_fence_is_noticed():
    from forum.paragraphs import unclosed_fence

    assert unclosed_fence("Text\n\n```\ncode")
    assert not unclosed_fence("Text\n\n```\ncode\n```")
    assert not unclosed_fence("- item\n\n  ```\n  code\n  ```")


def test_reference_links_work_in_every_paragraph():
    from forum.markup import cook
    from forum.paragraphs import cook_blocks

    blocks = split("See [the report][1].\n\nAnd [again][1].\n\n[1]: https://example.org/r")
    first, second, _ = cook_blocks(blocks, cook)
    assert '<a href="https://example.org/r" rel="nofollow ugc noopener">the report</a>' in first
    assert 'href="https://example.org/r"' in second


def test_a_paragraph_diff_numbers_every_paragraph_and_marks_words_within_it():
    before = "One.\n\nTwo words here.\n\nThree.\n\nFour."
    after = "One.\n\nTwo new words here.\n\nFour.\n\nFive, at the end."
    assert paragraph_diff(before, after) == [
        (1, 1, [("=", "One.")]),
        (2, 2, [("=", "Two"), ("+", " new"), ("=", " words here.")]),
        (3, None, [("-", "Three.")]),
        (4, 3, [("=", "Four.")]),
        (None, 4, [("+", "Five, at the end.")]),
    ]
    assert paragraph_diff(before, before) == [(n, n, [("=", p)])
                                              for n, p in enumerate(split(before), 1)]
