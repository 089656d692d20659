"""Ballot exports: export.json (the published bytes), .csv, .md and .blt, all stable."""
import csv
import io
import json

from .texts import as_line, counted

SCHEMA = "https://forum.example/schemas/ballot-1.json"
SCHEMA_VERSION = 1


def ballot_document(ballot):
    process = ballot.process
    return {
        "$schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "ballot": {
            "id": ballot.id,
            "published_at": ballot.published_at.isoformat(),
            "process": {"id": process.id, "title": process.title, "kind": process.kind,
                        "scope": process.scope, "seats": process.seats,
                        "support_threshold": process.support_threshold},
        },
        "items": [{"position": item.position, "proposal_id": item.proposal_id,
                   "title": item.title, "text": item.text, "sha256": item.sha256,
                   "provenance": item.provenance} for item in ballot.items],
    }


def ballot_json(ballot):
    """The canonical bytes: sorted keys, two-space indent, UTF-8, one final newline."""
    return json.dumps(ballot_document(ballot), sort_keys=True, indent=2,
                      ensure_ascii=False) + "\n"


def _document(ballot):
    # Every other format is derived from the stored JSON, so all four always agree.
    return json.loads(ballot.export_json)


def _cell(value):
    """A CSV cell that a spreadsheet shows as text: one starting = + - @ (or a tab or carriage
    return) would be run as a formula, so it gets a leading apostrophe, as OWASP advises."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def ballot_csv(ballot):
    doc = _document(ballot)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["position", "proposal_id", "title", "sha256", "author", "supports",
                     "versions", "merged_amendments"])
    for item in doc["items"]:
        prov = item["provenance"]
        writer.writerow([_cell(v) for v in (
            item["position"], item["proposal_id"], as_line(item["title"]), item["sha256"],
            prov["author"], prov["supports"], len(prov["versions"]),
            " ".join(str(a["id"]) for a in prov["amendments"]))])
    return out.getvalue()


def ballot_md(ballot):
    doc = _document(ballot)
    process = doc["ballot"]["process"]
    seats = "one winner" if process["seats"] == 1 else f"{process['seats']} seats"
    lines = [f"# Ballot: {as_line(process['title'])}", "",
             f"Published {doc['ballot']['published_at']} · {seats} · "
             f"{counted(len(doc['items']), 'item')}", ""]
    for item in doc["items"]:
        prov = item["provenance"]
        lines += [f"## {item['position']}. {as_line(item['title'])}", "",
                  f"Proposed by {prov['author']} · {counted(prov['supports'], 'support')} · "
                  f"SHA-256 `{item['sha256']}`", "", item["text"].rstrip(), ""]
        if prov["amendments"]:
            lines += ["Amendments merged into this text:", ""]
            lines += [f"- #{a['id']} by {a['author']}: +{a['up']} / -{a['down']}, "
                      f"rank {a['rank']} at intake" for a in prov["amendments"]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _blt_quote(text):
    # The BLT format has no escape for a double quote inside a name.
    return '"' + as_line(text).replace('"', "'") + '"'


def ballot_blt(ballot):
    """Candidates and seats for STV/IRV counting programs; no ballots yet (just the 0 line)."""
    doc = _document(ballot)
    items = doc["items"]
    seats = min(doc["ballot"]["process"]["seats"], len(items))  # no program elects more
    lines = [f"{len(items)} {seats}", "0"]
    lines += [_blt_quote(item["title"]) for item in items]
    lines.append(_blt_quote(doc["ballot"]["process"]["title"]))
    return "\n".join(lines) + "\n"


FORMATS = {"json": ("application/json", lambda b: b.export_json),
           "csv": ("text/csv; charset=utf-8", ballot_csv),
           "md": ("text/markdown; charset=utf-8", ballot_md),
           "blt": ("text/plain; charset=utf-8", ballot_blt)}
