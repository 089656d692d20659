"""What goes into the index, built from the database (the source of truth), and what a result
shows, reloaded from it at query time.

A document is a dict with the same fields for both backends:

    doc_id       "topic:12", "post:345", "proposal:6", "amendment:78" (clarifications too)
    kind         topic | post | proposal | amendment | clarification
    record_id    the row's id
    title        topics and proposals only (what in:title searches)
    body         plain text: a topic's first post, a post, every version of a proposal, an
                 amendment's text and rationale, a clarification's question and answer
    username, category_id, status, scope, topic_kind (regular | proposal | lab), created_at,
    votes        likes, supports, or up minus down
    visible      whether everyone may find it now (permissions.can_find for a visitor)
"""
import heapq
import html
import re

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..models import Amendment, Post, Process, Proposal, ProposalVersion, Topic
from ..paragraphs import item_heading

KINDS = ("topic", "post", "proposal", "amendment")
VISITOR = permissions.Anonymous()


# A tag of cooked HTML. Cooked HTML is what the sanitiser wrote (markup.py, nh3 last), so
# every attribute value is in double quotes, with any '"' in it escaped, and there are no
# comments, scripts or styles: a tag ends at the first '>' outside quotes.
_TAG = re.compile(r'<[^>"]*(?:"[^"]*"[^>"]*)*>')


def plain_text(cooked):
    """The words of cooked HTML, without markup, for indexing and snippets: what
    nh3.clean(cooked, tags=set()) leaves, unescaped, with runs of white space made one space
    (tests/unit/test_plain_text.py holds the two to the same answers). A page of results reads
    twenty of these; this takes a fifth of nh3's time."""
    text = _TAG.sub("", cooked or "")
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


class Scopes:
    """Which process (and so which scope) a category belongs to, loaded once per batch."""

    def __init__(self, session):
        self.by_category = dict(session.execute(select(Process.category_id, Process.scope)).all())

    def __call__(self, category_id):
        return self.by_category.get(category_id, "")


def _topic_doc(topic, first_post, scopes):
    return {
        "doc_id": f"topic:{topic.id}", "kind": "topic", "record_id": topic.id,
        "title": topic.title, "body": plain_text(first_post.cooked) if first_post else "",
        "username": topic.user.username_lower, "category_id": topic.category_id,
        "status": "closed" if topic.closed else "open", "scope": scopes(topic.category_id),
        "topic_kind": topic.kind, "created_at": topic.created_at, "votes": topic.like_count,
        # The first post is the topic's text: hidden, it hides the topic's document too.
        "visible": bool(permissions.can_find(VISITOR, topic)) and (
            first_post is None or bool(permissions.can_find(VISITOR, first_post))),
    }


def _post_doc(post, scopes):
    topic = post.topic
    return {
        "doc_id": f"post:{post.id}", "kind": "post", "record_id": post.id, "title": "",
        "body": plain_text(post.cooked), "username": post.user.username_lower,
        "category_id": topic.category_id, "status": "", "scope": scopes(topic.category_id),
        "topic_kind": topic.kind, "created_at": post.created_at, "votes": post.like_count,
        "visible": bool(permissions.can_find(VISITOR, post)),
    }


def _proposal_doc(proposal, versions):
    # Every version's text, each paragraph once: later versions mostly repeat earlier ones.
    paragraphs = dict.fromkeys(p.strip() for v in versions for p in v.body.split("\n\n"))
    return {
        "doc_id": f"proposal:{proposal.id}", "kind": "proposal", "record_id": proposal.id,
        "title": proposal.title,
        "body": proposal.summary + "\n\n" + "\n\n".join(p for p in paragraphs if p),
        "username": proposal.user.username_lower,
        "category_id": proposal.process.category_id, "status": proposal.status,
        "scope": proposal.process.scope, "topic_kind": "proposal",
        "created_at": proposal.created_at, "votes": proposal.support_count,
        "visible": bool(permissions.can_find(VISITOR, proposal)),
    }


def _item_doc(item):
    parts = [item.text, item.rationale, item.answer or ""]
    return {
        "doc_id": f"amendment:{item.id}", "kind": item.kind, "record_id": item.id, "title": "",
        "body": "\n\n".join(p for p in parts if p), "username": item.user.username_lower,
        "category_id": item.proposal.process.category_id, "status": item.status,
        "scope": item.proposal.process.scope, "topic_kind": "proposal",
        "created_at": item.created_at, "votes": item.up_count - item.down_count,
        "visible": bool(permissions.can_find(VISITOR, item)),
    }


# -- loading, by id (catching up) or all of them (rebuilding) ------------------------------------

def _first_posts(session, topic_ids):
    rows = session.scalars(select(Post).where(Post.topic_id.in_(topic_ids),
                                              Post.post_number == 1))
    return {p.topic_id: p for p in rows}


def _topics(session, ids, scopes):
    topics = session.scalars(select(Topic).where(Topic.id.in_(ids))
                             .options(joinedload(Topic.user))).unique().all()
    firsts = _first_posts(session, [t.id for t in topics])
    # A proposal's thread is found through its proposal, not as a topic of its own.
    return {t.id: _topic_doc(t, firsts.get(t.id), scopes) for t in topics
            if t.kind != "proposal"}


def _posts(session, ids, scopes):
    posts = session.scalars(select(Post).where(Post.id.in_(ids)).options(
        joinedload(Post.user), joinedload(Post.topic))).unique().all()
    return {p.id: _post_doc(p, scopes) for p in posts if p.post_number > 1}


def _first_post_topics(session, ids):
    """The topics of those posts that open their topic (the topic's document holds them)."""
    return set(session.scalars(select(Post.topic_id).where(Post.id.in_(ids),
                                                           Post.post_number == 1)))


def _proposals(session, ids):
    proposals = session.scalars(select(Proposal).where(Proposal.id.in_(ids)).options(
        joinedload(Proposal.user), joinedload(Proposal.topic))).unique().all()
    versions = {}
    for version in session.scalars(select(ProposalVersion).where(
            ProposalVersion.proposal_id.in_([p.id for p in proposals]))
            .order_by(ProposalVersion.number)):
        versions.setdefault(version.proposal_id, []).append(version)
    return {p.id: _proposal_doc(p, versions.get(p.id, [])) for p in proposals}


def _items(session, ids):
    items = session.scalars(select(Amendment).where(Amendment.id.in_(ids)).options(
        joinedload(Amendment.user),
        joinedload(Amendment.proposal).joinedload(Proposal.topic))).unique().all()
    return {i.id: _item_doc(i) for i in items}


def build(session, keys):
    """{doc_id: document or None} for (kind, record_id) pairs; None means "not in the index"
    (the row is gone, or is a topic's first post, which belongs to its topic's document)."""
    scopes = Scopes(session)
    wanted = {kind: set() for kind in KINDS}
    for kind, record_id in keys:
        wanted.setdefault(kind, set()).add(record_id)
    docs = {}
    if wanted["post"]:
        found = _posts(session, wanted["post"], scopes)
        docs.update({f"post:{i}": found.get(i) for i in wanted["post"]})
        wanted["topic"] |= _first_post_topics(session, wanted["post"])
    if wanted["topic"]:
        found = _topics(session, wanted["topic"], scopes)
        docs.update({f"topic:{i}": found.get(i) for i in wanted["topic"]})
    if wanted["proposal"]:
        found = _proposals(session, wanted["proposal"])
        docs.update({f"proposal:{i}": found.get(i) for i in wanted["proposal"]})
    if wanted["amendment"]:
        found = _items(session, wanted["amendment"])
        docs.update({f"amendment:{i}": found.get(i) for i in wanted["amendment"]})
    return docs


def count_all(session):
    from sqlalchemy import func

    return sum(session.scalar(select(func.count()).select_from(model).where(*where))
               for model, where in ((Topic, [Topic.kind != "proposal"]),
                                    (Post, [Post.post_number > 1]), (Proposal, []),
                                    (Amendment, [])))


def iter_all(session, batch=2000):
    """Every document, oldest first across all kinds, in batches (lists): a Whoosh index built
    in this order numbers its newest documents last (see windows.py)."""
    scopes = Scopes(session)
    loaders = {"topic": lambda ids: _topics(session, ids, scopes),
               "post": lambda ids: _posts(session, ids, scopes),
               "proposal": lambda ids: _proposals(session, ids),
               "amendment": lambda ids: _items(session, ids)}
    streams = []
    for kind, model, where in (("topic", Topic, [Topic.kind != "proposal"]),
                               ("post", Post, [Post.post_number > 1]),
                               ("proposal", Proposal, []), ("amendment", Amendment, [])):
        rows = session.execute(select(model.created_at, model.id).where(*where)
                               .order_by(model.created_at, model.id)).all()
        streams.append([(created, kind, record_id) for created, record_id in rows])
    session.commit()
    chunk = []
    for entry in heapq.merge(*streams):
        chunk.append(entry)
        if len(chunk) == batch:
            yield _load_in_order(loaders, chunk)
            session.expunge_all()
            chunk = []
    if chunk:
        yield _load_in_order(loaders, chunk)
        session.expunge_all()


def _load_in_order(loaders, chunk):
    wanted = {}
    for _, kind, record_id in chunk:
        wanted.setdefault(kind, []).append(record_id)
    docs = {kind: loaders[kind](ids) for kind, ids in wanted.items()}
    return [docs[kind][record_id] for _, kind, record_id in chunk
            if record_id in docs[kind]]


# -- results: the rows behind a page of hits, checked again against the database ---------------

# Built once, as a vote's statements are: building and keying them on every search cost more
# than running them. A result is read with what it shows and what may hide it: its author, its
# topic (with the category), a proposal's process.
_IDS = bindparam("ids", expanding=True)
_RESULT_TOPICS = (select(Topic).where(Topic.id.in_(_IDS)).options(joinedload(Topic.user)))
_FIRST_POSTS = select(Post).where(Post.topic_id.in_(_IDS), Post.post_number == 1)
_RESULT_POSTS = select(Post).where(Post.id.in_(_IDS)).options(
    joinedload(Post.user), joinedload(Post.topic))
_RESULT_PROPOSALS = select(Proposal).where(Proposal.id.in_(_IDS)).options(
    joinedload(Proposal.user), joinedload(Proposal.topic))
_RESULT_ITEMS = select(Amendment).where(Amendment.id.in_(_IDS)).options(
    joinedload(Amendment.user), joinedload(Amendment.proposal).joinedload(Proposal.topic))


def load_results(session, viewer, hits):
    """Turn [(kind, record_id)] into result dicts, dropping what the viewer may not find now
    (the index may be a moment behind the database)."""
    by_kind = {}
    for kind, record_id in hits:
        by_kind.setdefault("amendment" if kind == "clarification" else kind, []).append(record_id)
    rows = {}
    if ids := by_kind.get("topic"):
        topics = session.scalars(_RESULT_TOPICS, {"ids": ids}).unique().all()
        firsts = {p.topic_id: p for p in session.scalars(_FIRST_POSTS, {"ids": ids})}
        for t in topics:
            first = firsts.get(t.id)
            rows[("topic", t.id)] = (first or t, _topic_result(t, first))
    if ids := by_kind.get("post"):
        for p in session.scalars(_RESULT_POSTS, {"ids": ids}).unique():
            rows[("post", p.id)] = (p, _post_result(p))
    if ids := by_kind.get("proposal"):
        for p in session.scalars(_RESULT_PROPOSALS, {"ids": ids}).unique():
            rows[("proposal", p.id)] = (p, _proposal_result(p))
    if ids := by_kind.get("amendment"):
        for i in session.scalars(_RESULT_ITEMS, {"ids": ids}).unique():
            rows[("amendment", i.id)] = (i, _item_result(i))
    # Results are what both the viewer and a visitor may find; a visitor is checked once.
    viewers = (viewer, VISITOR) if viewer.is_authenticated else (VISITOR,)
    results = []
    for kind, record_id in hits:
        found = rows.get(("amendment" if kind == "clarification" else kind, record_id))
        if found is None:
            continue
        # A topic is checked through its first post, which checks the topic as well.
        row, result = found
        if all(permissions.can_find(who, row) for who in viewers):
            results.append(result)
    return results


def _result(kind, row, title, url, text, user, category, status, votes):
    return {"type": kind, "id": row.id, "title": title, "url": url, "text": text,
            "username": user.username, "created_at": row.created_at,
            "category_id": category.id, "category": category.name, "status": status,
            "votes": votes}


def _topic_result(topic, first_post):
    return _result("topic", topic, topic.title, f"/t/{topic.slug}/{topic.id}",
                   plain_text(first_post.cooked) if first_post else "", topic.user,
                   topic.category, "closed" if topic.closed else "open", topic.like_count)


def _post_result(post):
    topic = post.topic
    result = _result("post", post, topic.title,
                     f"/t/{topic.slug}/{topic.id}/{post.post_number}",
                     plain_text(post.cooked), post.user, topic.category, "", post.like_count)
    result.update(topic_id=topic.id, post_number=post.post_number)
    return result


def _proposal_result(proposal):
    return _result("proposal", proposal, proposal.title, f"/proposals/{proposal.id}",
                   proposal.summary, proposal.user, proposal.process.category, proposal.status,
                   proposal.support_count)


def _item_result(item):
    text = "\n\n".join(p for p in (item.text, item.rationale, item.answer or "") if p)
    title = f"{item_heading(item.kind, item.start, item.end, item.id)} of {item.proposal.title}"
    result = _result(item.kind, item, title, f"/amendments/{item.id}", text, item.user, item.proposal.process.category,
                     item.status, item.up_count - item.down_count)
    result["proposal_id"] = item.proposal_id
    return result
