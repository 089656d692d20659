"""Operator commands: flask forum create-admin | seed-demo | recook | create-api-key ..."""
import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from .db import write_transaction
from .errors import ServiceError
from .extensions import db
from .markup import COOK_VERSION, cook
from .paragraphs import cook_blocks, split

forum_cli = AppGroup("forum", help="Forum maintenance commands.")


@forum_cli.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--email", prompt=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_admin(username, email, password):
    """Create an admin account, verified and ready to sign in."""
    from .services import accounts

    try:
        user = accounts.create_admin(username, email, password)
    except ServiceError as exc:
        raise click.ClickException("; ".join(exc.errors)) from None
    click.echo(f"Created admin {user.username}.")


@forum_cli.command("seed-demo")
def seed_demo():
    """Fill an empty forum with demo content (does nothing if members exist)."""
    from .demo import seed

    click.echo(seed())


@forum_cli.command("recook")
@click.option("--all", "everything", is_flag=True, help="Re-render every row, not only old ones.")
def recook(everything):
    """Re-render stored Markdown cooked by an older renderer: posts, bios, proposal texts,
    amendments, clarifications and their answers."""
    from .models import Amendment, Post, ProposalVersion, User

    def amendment(row):
        row.text_cooked, row.rationale_cooked = cook(row.text), cook(row.rationale)
        if row.answer is not None:
            row.answer_cooked = cook(row.answer)

    recookers = {
        Post: lambda row: setattr(row, "cooked", cook(row.raw)),
        User: lambda row: setattr(row, "bio_cooked", cook(row.bio_raw)),
        ProposalVersion: lambda row: setattr(row, "paragraphs_cooked",
                                             cook_blocks(split(row.body), cook)),
        Amendment: amendment,
    }
    count = 0
    for model, recook_row in recookers.items():
        stmt = select(model.id)
        if not everything:
            stmt = stmt.where(model.cook_version < COOK_VERSION)
        ids = db.session.scalars(stmt).all()
        for start in range(0, len(ids), 500):
            with write_transaction():
                for row in db.session.scalars(select(model).where(
                        model.id.in_(ids[start:start + 500]))):
                    recook_row(row)
                    row.cook_version = COOK_VERSION
                    count += 1
    click.echo(f"Recooked {count} rows.")


@forum_cli.command("create-api-key")
@click.option("--user", "username", default="", metavar="NAME",
              help="The member the key acts as. Without it, the key acts as whichever "
                   "member the Api-Username header names.")
@click.option("--description", default="issued at the command line",
              help="What the key is for.")
def create_api_key(username, description):
    """Issue an API key and print it (only its hash is stored)."""
    from .permissions import CONSOLE
    from .services import api_keys

    try:
        key, plaintext = api_keys.issue_api_key(CONSOLE, username, description)
    except ServiceError as exc:
        raise click.ClickException("; ".join(exc.errors)) from None
    who = f"member {key.user.username}" if key.user_id else \
        "any member named in the Api-Username header"
    # The notice goes to stderr so that KEY=$(flask forum create-api-key) captures the key.
    click.echo(f"API key {key.truncated}... acts as {who}. It is not shown again.", err=True)
    click.echo(plaintext)


@forum_cli.command("reindex")
@click.option("--catch-up", "catch_up_only", is_flag=True,
              help="Only apply the changes waiting in the search outbox; no rebuild.")
def reindex(catch_up_only):
    """Rebuild the search index from the database, then apply what changed meanwhile."""
    from tqdm import tqdm

    from . import search
    from .search import documents

    with search.own_session() as session:
        if catch_up_only:
            applied = search.catch_up(session)
            click.echo(f"Applied {applied} changes; {search.pending_count(session)} waiting.")
            return
        total = documents.count_all(session)
        session.commit()
        with tqdm(total=total, unit="doc", desc="Reindexing") as bar:
            search.reindex(session, progress=bar.update)
        click.echo(f"Indexed {total} documents with the {search.backend().name} backend.")


@forum_cli.command("send-mail")
@click.option("--retry-failed", is_flag=True,
              help="Also try again the mail that failed every attempt.")
def send_mail(retry_failed):
    """Send the notification mail that is due, retrying failures with backoff."""
    from .search import own_session
    from .services import mailing

    with own_session() as session:
        released = mailing.release_stale_claims(session)
        retried = mailing.retry_failed(session) if retry_failed else 0
        sent = failed = 0
        while True:
            batch_sent, batch_failed = mailing.send_due(session)
            sent, failed = sent + batch_sent, failed + batch_failed
            if not batch_sent:
                break
    click.echo(f"Sent {sent}, failed {failed} (will retry); {released} stale claims released, "
               f"{retried} failed mails requeued.")


@forum_cli.command("send-digests")
def send_digests():
    """Queue and send each member's daily summary (run once a day, e.g. from cron)."""
    from .search import own_session
    from .services import mailing

    with own_session() as session:
        queued = mailing.send_digests(session)
        sent, failed = mailing.send_due(session)
    click.echo(f"Queued {queued} digests; sent {sent} mails, {failed} failed (will retry).")


def register_cli(app: Flask):
    app.cli.add_command(forum_cli)


@forum_cli.command("advance")
def advance():
    """Move every process on as its deadlines allow (idempotent; run it from cron)."""
    from .services.cycle import advance_all

    done = advance_all()
    click.echo("\n".join(done) if done else "Nothing to do.")


@forum_cli.command("export-ballot")
@click.argument("ballot_id", type=int)
@click.option("--out", "out_dir", default=".", type=click.Path(file_okay=False),
              help="Folder to write ballot-ID.json, .csv, .md and .blt into.")
def export_ballot(ballot_id, out_dir):
    """Write the four exports of a published ballot, byte for byte as the site serves them."""
    import os

    from . import exports
    from .services.ballots import get_ballot

    try:
        ballot = get_ballot(ballot_id)
    except ServiceError as exc:
        raise click.ClickException(exc.errors[0]) from None
    if ballot.status != "published":
        raise click.ClickException(f"Ballot {ballot_id} is {ballot.status}, not published.")
    os.makedirs(out_dir, exist_ok=True)
    for fmt, (_, render) in exports.FORMATS.items():
        path = os.path.join(out_dir, f"ballot-{ballot.id}.{fmt}")
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(render(ballot))
        click.echo(path)
    click.echo(f"SHA-256 of the JSON: {ballot.export_sha256}")
