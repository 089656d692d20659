"""Ballot exports of titles that would misbehave in a spreadsheet or a Markdown heading."""
import csv
import io
import json
from types import SimpleNamespace

from forum import exports


def ballot(*titles):
    items = [{"position": n, "proposal_id": n, "title": title, "text": "The text.\n",
              "sha256": "0" * 64,
              "provenance": {"author": "ann", "supports": 3, "versions": [{}],
                             "amendments": []}}
             for n, title in enumerate(titles, 1)]
    doc = {"ballot": {"id": 1, "published_at": "2026-11-25T00:00:00+00:00",
                      "process": {"id": 1, "title": "Policy\nPriorities", "kind": "x",
                                  "scope": "uk", "seats": 2, "support_threshold": 1}},
           "items": items}
    return SimpleNamespace(export_json=json.dumps(doc))


def test_a_title_that_looks_like_a_formula_stays_text_in_the_csv():
    titles = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0 title",
              "-1 for rents", "@everyone", "Fair rents = fair homes"]
    rows = list(csv.DictReader(io.StringIO(exports.ballot_csv(ballot(*titles)))))
    assert [r["title"] for r in rows] == [
        '\'=HYPERLINK("http://evil.example","click")', "'+cmd|' /C calc'!A0 title",
        "'-1 for rents", "'@everyone", "Fair rents = fair homes"]


def test_a_title_with_line_breaks_cannot_fake_a_heading():
    md = exports.ballot_md(ballot("Line one\n## 2. Fake candidate"))
    assert "## 1. Line one ## 2. Fake candidate" in md
    assert "# Ballot: Policy Priorities" in md
    assert md.count("\n## ") == 1
    blt = exports.ballot_blt(ballot("Two\r\nlines"))
    assert '"Two lines"' in blt.splitlines()
