"""Parts of pages kept between requests (forum/views/fragments.py) never show anything as it
was: every change a reader could see shows on the next request, and what is one reader's own
(an unread count, a like, an Edit link, a CSRF token) never reaches another."""
import re
from datetime import timedelta

from forum.extensions import db
from forum.models import Post, Topic
from forum.services import admin, moderation
from forum.services import posts as post_service


def _row(client, title):
    """The list row of the topic with this title, as text, or None."""
    html = client.get("/latest").get_data(as_text=True)
    for row in re.findall(r"<tr class=\"[^\"]*\">.*?</tr>", html, re.S):
        if f">{title}</a>" in row:
            return row
    return None


def test_a_kept_row_shows_each_change_to_its_topic(app, client, make, auth):
    author, reader, staff = make.user("rowauthor"), make.user("rowreader"), make.admin()
    category = make.category("Housing")
    topic = make.topic(author, category, title="Rent controls for the city")
    auth(client, reader)
    first = _row(client, "Rent controls for the city")
    assert first is not None and ">Housing</a>" in first and ">rowauthor</a>" in first

    make.reply(topic)
    reply = make.reply(topic)
    assert '<td class="num">2</td>' in _row(client, "Rent controls for the city")

    first_post = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id,
                                                        Post.post_number == 1))
    post_service.edit_post(author, first_post.id, "The first post, edited.",
                           title="Rent caps for the whole city")
    assert _row(client, "Rent controls for the city") is None
    assert _row(client, "Rent caps for the whole city") is not None

    admin.update_category(staff, category.id, "Homes", category.slug, category.color,
                          category.description, category.position, category.topic_creators)
    assert ">Homes</a>" in _row(client, "Rent caps for the whole city")

    moderation.lock_topic(staff, topic.id, "Settled.")
    row = _row(client, "Rent caps for the whole city")
    assert ">Closed</span>" in row and ">Pinned</span>" not in row
    moderation.pin_topic(staff, topic.id, globally=True)
    assert ">Pinned</span>" in _row(client, "Rent caps for the whole city")

    views = re.search(r'hide-narrow">(\d+)<', _row(client, "Rent caps for the whole city"))
    other_reader = app.test_client()
    auth(other_reader, make.user("anotherreader"))
    other_reader.get(f"/t/{topic.slug}/{topic.id}")
    row = _row(client, "Rent caps for the whole city")
    assert f'hide-narrow">{int(views.group(1)) + 1}<' in row

    post_service.delete_post(reply.user, reply.id)
    assert '<td class="num">1</td>' in _row(client, "Rent caps for the whole city")

    stored = db.session.get(Topic, topic.id)
    stored.bumped_at -= timedelta(days=3)
    db.session.commit()
    assert '<span aria-hidden="true">3d</span><span class="visually-hidden">3 days ago</span>' \
        in _row(client, "Rent caps for the whole city")


def test_kept_rows_carry_no_readers_unread_count(app, client, make, auth):
    author, reader, other = make.user(), make.user("hasread"), make.user("hasnotread")
    topic = make.topic(author, title="A topic two members read differently")
    auth(client, reader)
    client.get(f"/t/{topic.slug}/{topic.id}")
    make.reply(topic)
    make.reply(topic)
    assert "2 unread" in _row(client, "A topic two members read differently")

    client.post("/logout")
    auth(client, other)
    row = _row(client, "A topic two members read differently")
    assert "unread-count" not in row and ">new</span>" in row


def _like_form(html, number):
    """The like form of post `number` on a topic page, as text."""
    match = re.search(r'<article class="post[^"]*" id="post-%d".*?</article>' % number, html, re.S)
    form = re.search(r'<form class="inline like-form".*?</form>', match.group(0), re.S)
    return form.group(0) if form else None


def test_kept_post_actions_are_each_readers_own(app, client, make, auth):
    author, reader, liker = make.user("postauthor"), make.user("postreader"), make.user()
    topic = make.topic(author, title="A topic whose first post gets liked")
    page = f"/t/{topic.slug}/{topic.id}"
    auth(client, reader)
    as_author = app.test_client()
    auth(as_author, author)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        form = _like_form(client.get(page).get_data(as_text=True), 1)
        assert 'aria-pressed="false"' in form and '<span class="like-count">0</span>' in form
        html = as_author.get(page).get_data(as_text=True)
        assert ">Edit</a>" in html and _like_form(html, 1) is None

        first_post = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id))
        post_service.like_post(liker, first_post.id)
        html = client.get(page).get_data(as_text=True)
        form = _like_form(html, 1)
        assert 'aria-pressed="false"' in form and '<span class="like-count">1</span>' in form
        assert "edited · history" not in html and ">Edit</a>" not in html

        # The kept form carries this page's token: sending it as a browser would is accepted.
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        assert token == re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
        assert client.post(f"/posts/{first_post.id}/like",
                           data={"csrf_token": token}).status_code == 302
        post_service.unlike_post(liker, first_post.id)
        form = _like_form(client.get(page).get_data(as_text=True), 1)
        assert 'aria-pressed="true"' in form and '<span class="like-count">1</span>' in form

        post_service.edit_post(author, first_post.id, "The first post, said better.")
        assert "edited · history" in client.get(page).get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _item(html, item_id):
    """An amendment or clarification as a page shows it, as text, or None."""
    match = re.search(r'<article class="item [^"]*" id="item-%d".*?</article>' % item_id, html,
                      re.S)
    return match.group(0) if match else None


def test_a_kept_item_shows_each_change_to_it(app, client, make, auth):
    from forum.models import Amendment
    from forum.services import amendments, voting

    proposal = make.proposal()
    author, voter, reader = make.user("itemauthor"), make.user(), make.user("itemreader")
    item = make.amendment(proposal, author, start=3, end=3,
                          text="Rents are capped at a quarter of income.")
    page = f"/proposals/{proposal.id}"
    auth(client, reader)
    shown = _item(client.get(page).get_data(as_text=True), item.id)
    assert "<ins>quarter</ins>" in shown and ">itemauthor</a>" in shown
    assert '<span class="up-count">+0</span>' in shown and "Withdraw" not in shown

    amendments.edit_item(author, item.id, 3, 3, "Rents are capped at a fifth of income.",
                         "Fairer for the lowest paid.")
    shown = _item(client.get(page).get_data(as_text=True), item.id)
    assert "<ins>fifth</ins>" in shown and "quarter" not in shown and "Fairer for the lowest paid." in shown

    voting.cast_vote(voter, item.id, 1)
    shown = _item(client.get(page).get_data(as_text=True), item.id)
    assert '<span class="up-count">+1</span>' in shown and "You voted" not in shown

    voting.cast_vote(reader, item.id, -1)
    shown = _item(client.get(page).get_data(as_text=True), item.id)
    assert '<span class="down-count">-1</span>' in shown and "You voted down" in shown
    other = app.test_client()
    auth(other, make.user())
    assert "You voted" not in _item(other.get(page).get_data(as_text=True), item.id)

    moderation.hide(make.admin(), "amendment", item.id, "Off topic")
    assert _item(client.get(page).get_data(as_text=True), item.id) is None
    as_author = app.test_client()
    auth(as_author, author)
    shown = _item(as_author.get(page).get_data(as_text=True), item.id)
    assert "Hidden from others: Off topic." in shown and "<ins>fifth</ins>" in shown

    stored = db.session.get(Amendment, item.id)
    stored.created_at -= timedelta(days=3)
    db.session.commit()
    assert ">3 days ago</span></time>" in _item(
        client.get(f"/amendments/{item.id}").get_data(as_text=True), item.id)


def test_kept_items_are_each_readers_own(app, client, make, auth):
    from forum.services import amendments

    asker, reader = make.user("asker"), make.user()
    proposal = make.proposal()
    question = make.amendment(proposal, asker, kind="clarification",
                              text="Which income counts?", rationale="")
    page = f"/proposals/{proposal.id}"
    as_asker, as_author = app.test_client(), app.test_client()
    auth(as_asker, asker)
    auth(as_author, proposal.user)
    auth(client, reader)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        shown = _item(as_asker.get(page).get_data(as_text=True), question.id)
        assert ">Withdraw</button>" in shown and "Answer this" not in shown
        # Why the arrows are greyed out is said in words, not only in a tooltip.
        assert "disabled" in shown and (
            '<span class="muted small">You cannot vote on your own clarification.</span>' in shown)
        html = as_author.get(page).get_data(as_text=True)
        shown = _item(html, question.id)
        assert "Answer this" in shown and ">Withdraw</button>" not in shown
        # The kept forms carry this page's token.
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
        assert set(re.findall(r'name="csrf_token" value="([^"]+)"', shown)) == {token}
        shown = _item(client.get(page).get_data(as_text=True), question.id)
        assert ">Withdraw</button>" not in shown and "Answer this" not in shown
        assert "disabled" not in shown

        amendments.answer_clarification(proposal.user, question.id, "Household income.")
        shown = _item(client.get(page).get_data(as_text=True), question.id)
        assert "Answer from the author:" in shown and "Household income." in shown
        sorted_page = client.get(page + "?sort=new&kind=clarification").get_data(as_text=True)
        assert '<input type="hidden" name="sort" value="new">' in _item(sorted_page,
                                                                       question.id)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_kept_paragraphs_show_their_counts_and_each_readers_actions(app, client, make, auth):
    proposal = make.proposal()
    page = f"/proposals/{proposal.id}"

    def paragraph(html, n):
        return re.search(r'<li id="p-%d".*?</li>' % n, html, re.S).group(0)

    assert "Amend<" not in paragraph(client.get(page).get_data(as_text=True), 2)
    auth(client, make.user())
    shown = paragraph(client.get(page).get_data(as_text=True), 2)
    assert "Amend<" in shown and "pcount" not in shown
    make.amendment(proposal, start=2, end=3)
    make.amendment(proposal, start=2, end=2, kind="clarification", text="Which rents?")
    html = client.get(page).get_data(as_text=True)
    assert "1 amendment, 1 clarification" in paragraph(html, 2)
    assert "1 amendment<" in paragraph(html, 3)
    assert "is-target" in paragraph(client.get(page + "?paragraph=3").get_data(as_text=True), 3)
