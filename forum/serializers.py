"""JSON shapes, with Discourse's field names where the concept is the same."""
from flask import url_for

from . import permissions


def iso(value):
    return value.isoformat() if value else None


def basic_user(user):
    return {"id": user.id, "username": user.username, "name": user.name,
            "avatar_template": url_for("users.avatar", username=user.username_lower),
            "group": user.group.name if user.group else None, "nation": user.nation}


def topic_list_item(row):
    topic = row.topic
    return {
        "id": topic.id, "title": topic.title, "slug": topic.slug, "kind": topic.kind,
        "category_id": topic.category_id, "posts_count": topic.posts_count,
        "reply_count": topic.reply_count, "highest_post_number": topic.highest_post_number,
        "views": topic.views, "like_count": topic.like_count, "created_at": iso(topic.created_at),
        "last_posted_at": iso(topic.last_posted_at), "bumped_at": iso(topic.bumped_at),
        "pinned": topic.pinned_at is not None, "pinned_globally": topic.pinned_globally,
        "visible": topic.visible, "closed": topic.closed,
        "unseen": row.last_read is None, "last_read_post_number": row.last_read,
        "unread_posts": row.unread,
        "posters": [{"user_id": topic.user_id, "description": "Original Poster"}] + (
            [{"user_id": topic.last_post_user_id, "description": "Most Recent Poster"}]
            if topic.last_post_user_id and topic.last_post_user_id != topic.user_id else []),
    }


def topic_list(page, more_url=None, can_create=False):
    users = {}
    for row in page.items:
        for user in (row.topic.user, row.topic.last_post_user):
            if user is not None:
                users[user.id] = basic_user(user)
    return {"users": list(users.values()),
            "topic_list": {"can_create_topic": can_create, "per_page": page.per_page,
                           "more_topics_url": more_url,
                           "topics": [topic_list_item(row) for row in page.items]}}


def category(cat):
    return {"id": cat.id, "name": cat.name, "slug": cat.slug, "color": cat.color.lstrip("#"),
            "description": cat.description, "position": cat.position,
            "topic_count": cat.topic_count, "topic_creators": cat.topic_creators}


def post(p, viewer, liked=False, include_raw=False):
    hidden_for_viewer = p.hidden_at is not None and not (
        viewer.is_staff or viewer.id == p.user_id)
    withdrawn = p.deleted_at is not None
    data = {
        "id": p.id, "topic_id": p.topic_id, "post_number": p.post_number,
        "reply_to_post_number": p.reply_to_post_number, "username": p.user.username,
        "name": p.user.name, "user_id": p.user_id,
        "avatar_template": url_for("users.avatar", username=p.user.username_lower),
        "created_at": iso(p.created_at), "updated_at": iso(p.updated_at),
        "cooked": "" if (hidden_for_viewer or withdrawn) else p.cooked,
        "version": p.version, "reply_count": p.reply_count, "like_count": p.like_count,
        "liked": liked, "yours": viewer.is_authenticated and viewer.id == p.user_id,
        "deleted_at": iso(p.deleted_at), "hidden": p.hidden_at is not None,
        "can_edit": bool(permissions.can_edit_post(viewer, p)),
        "can_like": bool(permissions.can_like_post(viewer, p)),
    }
    if include_raw and not (hidden_for_viewer or withdrawn):
        data["raw"] = p.raw
    return data


def user_profile(user, viewer, posts=(), devices=None, this_device=""):
    data = basic_user(user)
    data.update({"bio_cooked": user.bio_cooked, "bio_raw": user.bio_raw, "role": user.role,
                 # Discourse's names for the same thing, for scripts written against it.
                 "admin": user.role == "admin", "moderator": user.role == "moderator",
                 "created_at": iso(user.created_at), "post_count": user.post_count,
                 "sections": [{"id": m.section.id, "name": m.section.name, "lead": m.is_lead}
                              for m in user.section_memberships],
                 "recent_posts": [{"id": p.id, "topic_id": p.topic_id,
                                   "topic_title": p.topic.title,
                                   "post_number": p.post_number,
                                   "created_at": iso(p.created_at)} for p in posts]})
    if permissions.can_see_email(viewer, user):
        data["email"] = user.email
    if devices is not None:
        data["user_auth_tokens"] = [session(device, this_device) for device in devices]
    return {"user": data}


def session(device, this_device=""):
    """A signed-in device, as Discourse lists a member's user_auth_tokens."""
    return {"id": device.id, "browser": device.user_agent,
            "created_at": iso(device.created_at), "seen_at": iso(device.last_seen_at),
            "is_active": device.token_hash == this_device}


# -- deliberation ------------------------------------------------------------------------------

def process(p, ballot_id=None):
    return {"id": p.id, "kind": p.kind, "scope": p.scope, "title": p.title, "slug": p.slug,
            "description": p.description, "seats": p.seats, "phase": p.phase,
            "proposals_close_at": iso(p.proposals_close_at),
            "amendments_close_at": iso(p.amendments_close_at),
            "labs_close_at": iso(p.labs_close_at), "support_threshold": p.support_threshold,
            "lab_min_votes": p.lab_min_votes, "lab_intake_max": p.lab_intake_max,
            "lab_clarifications_max": p.lab_clarifications_max, "category_id": p.category_id,
            "ballot_id": ballot_id, "created_at": iso(p.created_at)}


def proposal_summary(p, supported=False):
    return {"id": p.id, "process_id": p.process_id, "topic_id": p.topic_id, "title": p.title,
            "summary": p.summary, "status": p.status, "status_reason": p.status_reason,
            "supports": p.support_count, "supported": supported,
            "amendment_count": p.amendment_count,
            "clarification_count": p.clarification_count,
            "username": p.user.username, "section_id": p.section_id,
            "version": p.current_version_number, "created_at": iso(p.created_at)}


def proposal(p, version, supported=False, counts=None, lab_id=None):
    data = proposal_summary(p, supported)
    from .paragraphs import split

    blocks = split(version.body)
    data.update({
        "lab_id": lab_id, "body": version.body, "sha256": version.sha256,
        "window_closed_at": iso(p.window_closed_at),
        "paragraphs": [{"number": n, "text": raw, "cooked": cooked,
                        "amendments": (counts or {}).get(n, (0, 0))[0],
                        "clarifications": (counts or {}).get(n, (0, 0))[1]}
                       for n, (raw, cooked) in enumerate(zip(blocks, version.paragraphs_cooked),
                                                        start=1)],
    })
    return data


def amendment(item, rank=None, my_vote=None, viewer=None):
    hidden = item.hidden_at is not None and not (
        viewer is not None and (viewer.is_staff or viewer.id == item.user_id))
    return {"id": item.id, "proposal_id": item.proposal_id, "kind": item.kind,
            "status": item.status, "status_reason": item.status_reason,
            "version": item.version_number, "start": item.start, "end": item.end,
            "text": "" if hidden else item.text, "rationale": "" if hidden else item.rationale,
            "text_cooked": "" if hidden else item.text_cooked,
            "redline": [] if hidden else item.redline,
            "up": item.up_count, "down": item.down_count, "net": item.up_count - item.down_count,
            "score": round(item.score, 6), "rank": rank, "my_vote": my_vote or 0,
            "username": item.user.username, "hidden": item.hidden_at is not None,
            "answer": item.answer, "answered_at": iso(item.answered_at),
            "created_at": iso(item.created_at), "updated_at": iso(item.updated_at)}
