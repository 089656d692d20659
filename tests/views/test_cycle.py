"""The whole cycle over HTTP: process to ballot export, then every hash recomputed and every
ballot text walked back through its provenance to the amendments and votes behind it."""
import csv
import hashlib
import io
import json
from datetime import timedelta
from pathlib import Path

import jsonschema

from forum.extensions import db
from forum.models import Process, Section, SectionMembership, utcnow
from tests.conftest import login

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "ballot.schema.json")
                    .read_text())


class Actor:
    """One member's session on the shared test client."""

    def __init__(self, client, user):
        self.client, self.user = client, user

    def __call__(self, method, url, **body):
        self.client.post("/logout")
        login(self.client, self.user)
        response = self.client.open(url, method=method, json=body if body else None)
        assert response.status_code < 300, (url, response.status_code, response.get_json())
        return response.get_json()


def test_whole_cycle_over_http(app, make):
    client = app.test_client()
    admin, lead = make.admin(), make.user("fiona")
    section = Section(name="Housing", slug="housing")
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionMembership(section_id=section.id, user_id=lead.id, is_lead=True))
    db.session.commit()
    authors = [make.user(f"author{n}") for n in range(3)]
    voters = [make.user(f"voter{n}") for n in range(6)]
    as_admin, as_lead = Actor(client, admin), Actor(client, lead)

    process = as_admin("POST", "/processes.json", kind="policy_priorities", scope="uk",
                       title="Policy Priorities 2027", seats=2,
                       proposals_close_at="2099-01-01T00:00:00Z",
                       amendments_close_at="2099-02-01T00:00:00Z",
                       labs_close_at="2099-03-01T00:00:00Z", support_threshold=3,
                       lab_min_votes=3, lab_intake_max=2)["process"]
    assert process["ballot_id"]

    body = ("Council homes are built in every town.\n\nRents are capped at a third of "
            "income.\n\nTenancies are secure.\n")
    proposals = [Actor(client, authors[n])("POST", "/proposals.json", process_id=process["id"],
                                          title=f"Housing plan {n}", summary="Homes for all.",
                                          body=body, section_id=section.id)["proposal"]
                 for n in range(3)]
    main = proposals[0]

    def amend(who, start, end, text, kind="amendment"):
        return Actor(client, who)("POST", f"/proposals/{main['id']}/amendments.json", kind=kind,
                                  start=start, end=end, text=text,
                                  rationale="It says it better.")["amendment"]

    a1 = amend(voters[0], 1, 1, "Council homes are built in every town and city.")
    a2 = amend(voters[1], 1, 1, "Council homes are built, fast, in every town.")
    a3 = amend(voters[2], 3, 3, "Tenancies are secure for life.")
    a4 = amend(voters[3], 2, 2, "Rents are capped.")
    q1 = amend(voters[4], 2, 2, "Gross income or net income?", kind="clarification")

    def votes(item, values):
        for voter, value in zip(voters, values):
            if voter.username != item["username"]:
                Actor(client, voter)("PUT", f"/amendments/{item['id']}/vote.json", value=value)

    votes(a1, [1, 1, 1, 1, 1, 1])        # 5 up (its author cannot vote)
    votes(a2, [1, 1, 1, 1, -1, 0])       # 3 up, 1 down
    votes(a3, [1, 1, 1, 1, 1, -1])       # 4 up, 1 down, but the cap is 2
    votes(a4, [1, -1, 0, 0, 0, 0])       # too few votes
    votes(q1, [1, 1, 1, 0, 0, 0])
    for proposal, supporters in ((main, voters[:4]), (proposals[1], voters[:2]),
                                 (proposals[2], voters[:3])):
        for voter in supporters:
            Actor(client, voter)("POST", f"/proposals/{proposal['id']}/support.json")

    # The section lead closes the main proposal's window early.
    lab = as_lead("POST", f"/proposals/{main['id']}/close.json", reason="Ready")["lab"]
    intake = {e["amendment_id"]: e for e in lab["intake"]}
    assert [e["amendment_id"] for e in lab["intake"] if e["taken"]] == [a1["id"], a3["id"],
                                                                         q1["id"]]
    assert intake[a2["id"]]["taken"] is False and intake[a4["id"]]["taken"] is False
    assert (intake[a1["id"]]["up"], intake[a1["id"]]["rank"]) == (5, 1)
    shown = client.get(f"/amendments/{a4['id']}.json").get_json()["amendment"]
    assert shown["status"] == "not_selected"
    lab_page = client.get(f"/labs/{lab['id']}").get_data(as_text=True)
    assert "<svg" in lab_page and 'class="cut"' in lab_page

    # Decisions: accepting a1 and then an overlapping composite is refused with a pointer.
    as_lead("POST", f"/labs/{lab['id']}/members.json", username=voters[5].username,
            role="expert")
    as_lead("POST", f"/labs/{lab['id']}/decisions.json", decision="accept",
            amendment_id=a1["id"], note="Clearer.")
    client.post("/logout")
    login(client, lead)
    refused = client.post(f"/labs/{lab['id']}/decisions.json", json={
        "decision": "composite", "amendment_ids": [a3["id"]], "start": 1, "end": 3,
        "text": "All in one."})
    assert refused.status_code == 409 and "composite" in refused.get_json()["errors"][0]
    as_lead("POST", f"/labs/{lab['id']}/decisions.json", decision="composite",
            amendment_ids=[a3["id"]], start=3, end=3,
            text="Tenancies are secure for life, with rent reviews once a year.",
            note="Combines the security of a3 with annual reviews.")
    as_lead("POST", f"/labs/{lab['id']}/decisions.json", decision="answer",
            amendment_id=q1["id"], text="Net income.")
    v2 = as_lead("POST", f"/labs/{lab['id']}/publish.json", note="Lab edit")["version"]
    assert v2["number"] == 2
    diff = client.get(f"/proposals/{main['id']}/versions/diff.json?from=1&to=2").get_json()
    assert ["+", "and city."] in [list(d) for d in diff["diff"]] or any(
        op == "+" and "city" in text for op, text in diff["diff"])
    as_lead("POST", f"/labs/{lab['id']}/finalize.json")
    assert client.get(f"/proposals/{main['id']}.json").get_json()["proposal"]["status"] == "final"

    # The deadlines pass; advance finalises the other labs and opens the ballot phase.
    row = db.session.get(Process, process["id"])
    row.proposals_close_at = utcnow() - timedelta(days=3)
    row.amendments_close_at = utcnow() - timedelta(days=2)
    row.labs_close_at = utcnow() - timedelta(days=1)
    db.session.commit()
    advanced = as_admin("POST", f"/processes/{process['id']}/advance.json")
    assert advanced["process"]["phase"] == "ballot"
    assert as_admin("POST", f"/processes/{process['id']}/advance.json")["done"] == []

    ballot_id = process["ballot_id"]
    promoted = as_admin("POST", f"/ballots/{ballot_id}/promote.json")["ballot"]
    assert [i["proposal_id"] for i in promoted["items"]] == [main["id"], proposals[2]["id"]]
    below = client.get(f"/proposals/{proposals[1]['id']}.json").get_json()["proposal"]
    assert below["status"] == "not_qualified" and "needed 3" in below["status_reason"]
    assert "needed 3" in client.get(f"/proposals/{proposals[1]['id']}").get_data(as_text=True)

    published = as_admin("POST", f"/ballots/{ballot_id}/publish.json")["ballot"]
    client.post("/logout")
    again = client.post(f"/ballots/{ballot_id}/publish.json")
    assert again.status_code in (401, 403)

    exports = {fmt: client.get(f"/ballots/{ballot_id}/export.{fmt}").data
               for fmt in ("json", "csv", "md", "blt")}
    for fmt, data in exports.items():
        assert client.get(f"/ballots/{ballot_id}/export.{fmt}").data == data  # stable
    assert hashlib.sha256(exports["json"]).hexdigest() == published["export_sha256"]
    assert published["export_sha256"] in client.get(f"/ballots/{ballot_id}").get_data(
        as_text=True)
    document = json.loads(exports["json"])
    jsonschema.validate(document, SCHEMA)
    assert exports["blt"].decode().splitlines()[:2] == ["2 2", "0"]
    rows = list(csv.DictReader(io.StringIO(exports["csv"].decode())))
    assert [int(r["proposal_id"]) for r in rows] == [main["id"], proposals[2]["id"]]
    assert "## 1. Housing plan 0" in exports["md"].decode()
    assert "Published " in exports["md"].decode() and " · 2 items" in exports["md"].decode()

    # Walk every text back to the amendments and votes that made it.
    for item in document["items"]:
        assert hashlib.sha256(item["text"].encode()).hexdigest() == item["sha256"]
        prov = item["provenance"]
        final_version = prov["versions"][-1]
        assert final_version["sha256"] == item["sha256"]
        for amendment in prov["amendments"]:
            votes_now = client.get(f"/amendments/{amendment['id']}.json").get_json()["amendment"]
            assert (amendment["up"], amendment["down"]) == (votes_now["up"], votes_now["down"])
            assert amendment["author"] == votes_now["username"]
            decision = next(d for d in prov["decisions"]
                            if amendment["id"] in d["amendment_ids"])
            assert decision["text"] in item["text"]
    first = document["items"][0]["provenance"]
    assert {a["id"] for a in first["amendments"]} == {a1["id"], a3["id"]}
    assert first["lab"]["intake"][0] == {"amendment_id": a1["id"], "kind": "amendment",
                                         "up": 5, "down": 0, "score": intake[a1["id"]]["score"],
                                         "rank": 1, "taken": True}

    # Outcomes close the process. The page's form starts with no outcome chosen.
    login(client, admin)
    page = client.get(f"/ballots/{ballot_id}").get_data(as_text=True)
    assert '<option value="" selected>Choose…</option>' in page
    as_admin("POST", f"/ballots/{ballot_id}/items/{promoted['items'][0]['id']}/outcome.json",
             outcome="adopted")
    last = as_admin("POST", f"/ballots/{ballot_id}/items/{promoted['items'][1]['id']}"
                    "/outcome.json", outcome="not_adopted")
    assert [i["outcome"] for i in last["ballot"]["items"]] == ["adopted", "not_adopted"]
    assert client.get(f"/processes/{process['id']}.json").get_json()["process"]["phase"] \
        == "closed"
    assert client.get(f"/ballots/{ballot_id}/export.json").data == exports["json"]
    missing = client.get(f"/ballots/{ballot_id}/export.pdf")
    assert missing.status_code == 404 and "no such export" in missing.get_data(as_text=True)


def test_an_admin_extends_a_deadline_while_its_phase_has_not_been_run(client, make):
    """Admins correct or extend a process from its page; what a phase change has already used
    stays as it was, and every change is in the public moderation log with its reason."""
    from forum.models import AuditEvent

    process = make.process()
    url = f"/processes/{process.id}/edit"
    for who in (make.user(), make.user(role="moderator")):
        login(client, who)
        assert client.get(url).status_code == 403
        assert client.post(url, data={"title": "Taken over"}).status_code == 403
    login(client, make.admin())
    page = client.get(f"/processes/{process.id}").get_data(as_text=True)
    assert f'href="{url}">Edit the process</a>' in page
    form = client.get(url).get_data(as_text=True)
    assert f'value="{process.title}"' in form and 'id="amendments_close_at"' in form
    later = (utcnow() + timedelta(days=27)).replace(microsecond=0)
    done = client.post(url, data={"amendments_close_at": later.strftime("%Y-%m-%dT%H:%M"),
                                  "reason": "A week more for amendments."})
    assert done.status_code == 302
    assert db.session.get(Process, process.id).amendments_close_at == later.replace(second=0)
    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "edit_process")).one()
    assert event.reason == "A week more for amendments." and "amendments_close_at" in \
        event.details["after"]
    log = client.get("/moderation-log").get_data(as_text=True)
    assert "edited" in log and "A week more for amendments." in log
    # Out of order: refused, and what was typed is kept.
    earlier = later - timedelta(days=1)
    refused = client.post(url, data={"labs_close_at": earlier.strftime("%Y-%m-%dT%H:%M"),
                                     "amendments_close_at": "", "title": "Renamed process",
                                     "description": "Kept when refused."})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Deadlines must run in order" in html
    assert "Kept when refused.</textarea>" in html
    # Once the labs are open, the amendment deadline and intake settings are what they were.
    db.session.get(Process, process.id).phase = "labs"
    db.session.commit()
    form = client.get(url).get_data(as_text=True)
    assert 'id="amendments_close_at"' in form and "Already used: the labs are open." in form
    response = client.put(f"/processes/{process.id}.json", json={
        "amendments_close_at": (later + timedelta(days=1)).isoformat()})
    assert response.status_code == 422
    assert response.get_json()["errors"] == ["This can no longer change: the labs are open."]
    response = client.put(f"/processes/{process.id}.json", json={
        "labs_close_at": (later + timedelta(days=20)).isoformat(), "support_threshold": 3})
    assert response.status_code == 200
    assert response.get_json()["process"]["support_threshold"] == 3
    campaign = make.process(kind="priority_campaign")
    refused = client.put(f"/processes/{campaign.id}.json", json={"seats": 2})
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == ["A Priority Campaign has one winner."]
    db.session.get(Process, process.id).phase = "closed"
    db.session.commit()
    assert client.put(f"/processes/{process.id}.json",
                      json={"title": "Rewriting history"}).status_code == 403


def test_the_ballot_offers_promotion_only_in_the_ballot_phase(client, make):
    process = make.process()
    login(client, make.admin())
    ballot_id = client.get(f"/processes/{process.id}.json").get_json()["process"]["ballot_id"]
    page = client.get(f"/ballots/{ballot_id}").get_data(as_text=True)
    assert "Promotion comes in the ballot phase: once the policy labs close (" in page
    assert "Promote the final texts" not in page
    db.session.get(Process, process.id).phase = "ballot"
    db.session.commit()
    assert "Promote the final texts" in client.get(f"/ballots/{ballot_id}").get_data(
        as_text=True)


def test_advancing_says_what_it_did_or_why_it_did_nothing(client, make):
    process = make.process()
    login(client, make.admin())
    shown = client.post(f"/processes/{process.id}/advance", follow_redirects=True)
    assert "Nothing to move on yet: the proposals phase ends when the amendment windows close, " \
        in shown.get_data(as_text=True)
    row = db.session.get(Process, process.id)
    row.proposals_close_at = utcnow() - timedelta(minutes=2)
    row.amendments_close_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    shown = client.post(f"/processes/{process.id}/advance", follow_redirects=True)
    assert "The process is now in its labs phase." in shown.get_data(as_text=True)
