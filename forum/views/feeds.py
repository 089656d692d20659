"""Atom feeds: latest topics, a category, a process's proposals, a proposal's amendments.

Feeds are read by feed readers without a session, so they list what a visitor may find
(permissions.can_find), newest first.
"""
import re

from flask import Blueprint, abort, make_response, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import permissions, queries
from ..extensions import db
from ..models import Amendment, Category, Post, Proposal
from ..paragraphs import item_heading
from ..services import deliberation

bp = Blueprint("feeds", __name__)

ENTRIES = 30
VISITOR = permissions.Anonymous()
# Characters XML 1.0 does not allow, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value):
    return _NOT_XML.sub("", value or "")


def _feed(title, html_url, self_url, entries):
    updated = max((e["updated"] for e in entries), default=None)
    body = render_template("feeds/atom.xml", title=title, html_url=html_url, self_url=self_url,
                           entries=entries, updated=updated, clean=_xml_text)
    response = make_response(body)
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _topic_entries(page):
    topics = [row.topic for row in page.items if permissions.can_find(VISITOR, row.topic)]
    firsts = {p.topic_id: p for p in db.session.scalars(select(Post).where(
        Post.topic_id.in_([t.id for t in topics]), Post.post_number == 1))}
    entries = []
    for topic in topics:
        first = firsts.get(topic.id)
        visible = first is not None and permissions.can_find(VISITOR, first)
        entries.append({
            "id": url_for("topics.show_by_id", topic_id=topic.id, _external=True),
            "url": url_for("topics.show", slug=topic.slug, topic_id=topic.id, _external=True),
            "title": topic.title, "author": topic.user.username,
            "published": topic.created_at, "updated": topic.bumped_at,
            "html": first.cooked if visible else "", "category": topic.category.name})
    return entries


@bp.route("/latest.atom")
def latest():
    page = queries.topic_list(VISITOR, "latest", per_page=ENTRIES, posters=True)
    return _feed("Latest topics", url_for("topics.latest", _external=True),
                 url_for("feeds.latest", _external=True), _topic_entries(page))


@bp.route("/c/<slug>/<int:category_id>.atom")
def category(slug, category_id):
    cat = db.session.get(Category, category_id)
    if cat is None:
        abort(404)
    page = queries.topic_list(VISITOR, "category", category=cat, per_page=ENTRIES,
                              posters=True)
    return _feed(f"Topics in {cat.name}",
                 url_for("topics.category", slug=cat.slug, category_id=cat.id, _external=True),
                 url_for("feeds.category", slug=cat.slug, category_id=cat.id, _external=True),
                 _topic_entries(page))


@bp.route("/processes/<int:process_id>/proposals.atom")
def proposals(process_id):
    process = deliberation.get_process(process_id)
    rows = db.session.scalars(select(Proposal).where(Proposal.process_id == process.id)
                              .options(joinedload(Proposal.user), joinedload(Proposal.topic))
                              .order_by(Proposal.created_at.desc(), Proposal.id.desc())
                              .limit(ENTRIES * 2)).all()
    entries = [{
        "id": url_for("proposals.show", proposal_id=p.id, _external=True),
        "url": url_for("proposals.show", proposal_id=p.id, _external=True),
        "title": p.title, "author": p.user.username, "published": p.created_at,
        "updated": p.updated_at, "html": f"<p>{_escape(p.summary)}</p>",
        "category": p.status.replace("_", " ")}
        for p in rows if permissions.can_find(VISITOR, p)][:ENTRIES]
    return _feed(f"Proposals in {process.title}",
                 url_for("processes.show", process_id=process.id, _external=True),
                 url_for("feeds.proposals", process_id=process.id, _external=True), entries)


@bp.route("/proposals/<int:proposal_id>/amendments.atom")
def amendments(proposal_id):
    proposal = deliberation.get_proposal(proposal_id)
    if not permissions.can_find(VISITOR, proposal):
        abort(404)
    rows = db.session.scalars(select(Amendment).where(Amendment.proposal_id == proposal.id)
                              .options(joinedload(Amendment.user))
                              .order_by(Amendment.created_at.desc(), Amendment.id.desc())
                              .limit(ENTRIES * 2)).all()
    entries = []
    for item in rows:
        if not permissions.can_find(VISITOR, item):
            continue
        html = item.text_cooked + (f"<p><strong>Why:</strong></p>{item.rationale_cooked}"
                                   if item.rationale_cooked else "")
        entries.append({
            "id": url_for("amendments.show", item_id=item.id, _external=True),
            "url": url_for("amendments.show", item_id=item.id, _external=True),
            "title": f"{item_heading(item.kind, item.start, item.end, item.id)} by "
                     f"{item.user.username}",
            "author": item.user.username, "published": item.created_at,
            "updated": item.updated_at, "html": html, "category": item.status.replace("_", " ")})
    return _feed(f"Amendments to {proposal.title}",
                 url_for("proposals.show", proposal_id=proposal.id, _external=True),
                 url_for("feeds.amendments", proposal_id=proposal.id, _external=True),
                 entries[:ENTRIES])


def _escape(text):
    from markupsafe import escape

    return str(escape(text))
