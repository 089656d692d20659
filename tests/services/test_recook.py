"""`flask forum recook`: everything stored cooked is re-rendered by the current renderer."""
from sqlalchemy import update

from forum.extensions import db
from forum.markup import COOK_VERSION
from forum.models import Amendment, Post, ProposalVersion, User
from forum.services import amendments


def test_recook_renders_again_every_kind_of_cooked_text(make, runner):
    author = make.user()
    post = make.reply(make.topic(), raw="Try `a < b`")
    proposal = make.proposal(body="First `x < y`.\n\nSecond paragraph.")
    item = make.amendment(proposal, text="Use `<b>`", rationale="`&&` reads badly")
    question = make.amendment(proposal, kind="clarification", text="Why `<` here, not after?")
    amendments.answer_clarification(proposal.user, question.id, "Because `a < b`.")
    stale = {"cook_version": COOK_VERSION - 1}
    with db.session.begin():
        db.session.execute(update(Post).values(cooked="stale", **stale))
        db.session.execute(update(User).where(User.id == author.id)
                           .values(bio_raw="I like `<code>`", bio_cooked="stale", **stale))
        db.session.execute(update(ProposalVersion).values(paragraphs_cooked=["stale"], **stale))
        db.session.execute(update(Amendment).values(
            text_cooked="stale", rationale_cooked="stale", answer_cooked="stale", **stale))

    result = runner.invoke(args=["forum", "recook"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Post, post.id).cooked == "<p>Try <code>a &lt; b</code></p>"
    assert db.session.get(User, author.id).bio_cooked == (
        "<p>I like <code>&lt;code&gt;</code></p>")
    version = db.session.scalars(db.select(ProposalVersion).filter_by(
        proposal_id=proposal.id)).one()
    assert version.paragraphs_cooked == ["<p>First <code>x &lt; y</code>.</p>",
                                         "<p>Second paragraph.</p>"]
    item, question = db.session.get(Amendment, item.id), db.session.get(Amendment, question.id)
    assert (item.text_cooked, item.rationale_cooked) == (
        "<p>Use <code>&lt;b&gt;</code></p>", "<p><code>&amp;&amp;</code> reads badly</p>")
    assert question.answer_cooked == "<p>Because <code>a &lt; b</code>.</p>"
    assert {row.cook_version for model in (Post, ProposalVersion, Amendment)
            for row in db.session.scalars(db.select(model))} == {COOK_VERSION}

    again = runner.invoke(args=["forum", "recook"])
    assert again.output.strip() == "Recooked 0 rows."
