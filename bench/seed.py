"""Seed a large forum for the benchmark: thousands of members and topics, 100,000+ posts.

    .venv/bin/python bench/seed.py                     # SQLite file bench/results/forum-bench.db
    DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/seed.py

Migrations run first (`flask db upgrade`). The demo forum, the benchmark's member and the start
of the big topic go through the real services; the volume behind them is bulk-inserted, with
every body cooked by forum.markup.cook, and the counters are then recounted from the rows in SQL,
so they agree with the rows exactly as the services would have left them.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = f"sqlite:///{RESULTS / 'forum-bench.db'}"
# The benchmark forum's own search index, apart from the development one in search_index/.
SEARCH_INDEX = RESULTS / "search_index"

BENCH_USERNAME = "benchreader"
BENCH_PASSWORD = "bench reader password 2026"
BIG_TOPIC_TITLE = "The long thread: what should the 2027 Priority Campaign be?"
PROPOSAL_TITLE = "A warm, affordable home for every family"
BATCH = 5000

WORDS = ("housing rent cap wages council tenants repairs buses trains fares climate heat pumps "
         "insulation care nurses hospital waiting lists pay conditions union ballot branch "
         "Glasgow Cardiff Swansea Leeds Bristol Manchester Edinburgh meeting proposal amendment "
         "paragraph clause vote lab section evidence cost fair local national budget schools "
         "energy water land planning transport childcare libraries youth pensions").split()


def database_url(args):
    return args.database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def prepare_database(url, reset):
    """A fresh SQLite file when asked; PostgreSQL must be an empty database."""
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        if reset:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            shutil.rmtree(SEARCH_INDEX, ignore_errors=True)
    env = dict(os.environ, DATABASE_URL=url, FLASK_APP="wsgi.py", FORUM_ENV="development",
               SEARCH_INDEX_DIR=str(SEARCH_INDEX))
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)


# With --vocabulary N: N words with Zipf's law frequencies (as in real text), the topical WORDS
# among them at ranks 20 to 2,000, so a query word matches a few per cent of the posts, not
# most of them. Without it (the default): WORDS alone, each equally likely.
VOCABULARY = None


def set_vocabulary(size, seed=2027):
    global VOCABULARY
    if not size:
        VOCABULARY = None
        return
    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai",
                                                               "ou", "ea")]
    made, known = [], set(WORDS)
    while len(made) < size - len(WORDS):
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in known:
            known.add(word)
            made.append(word)
    for word, rank in zip(WORDS, sorted(rng.sample(range(20, 2000), len(WORDS)))):
        made.insert(rank, word)
    cumulative, total = [], 0.0
    for rank in range(len(made)):
        total += 1 / (rank + 1)
        cumulative.append(total)
    VOCABULARY = (made, cumulative)


def sentence(rng, low=6, high=18):
    count = rng.randint(low, high)
    if VOCABULARY:
        words = rng.choices(VOCABULARY[0], cum_weights=VOCABULARY[1], k=count)
    else:
        words = [rng.choice(WORDS) for _ in range(count)]
    return " ".join(words).capitalize() + "."


def make_raw(rng, usernames):
    """One member's post: a few paragraphs, sometimes a list, a quote, code or a mention."""
    parts = [" ".join(sentence(rng) for _ in range(rng.randint(1, 4)))
             for _ in range(rng.randint(1, 3))]
    extra = rng.random()
    if extra < 0.15:
        parts.append("\n".join(f"* {sentence(rng, 3, 8)}" for _ in range(rng.randint(2, 5))))
    elif extra < 0.25:
        parts.insert(0, "> " + sentence(rng))
    elif extra < 0.30:
        parts.append("```\nsupport = up / (up + down)\n```")
    elif extra < 0.40:
        parts.append(f"@{rng.choice(usernames)} what do you think? See "
                     "https://example.org/evidence for the **numbers**.")
    return "\n\n".join(parts)


def seed(args):
    url = database_url(args)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("FORUM_ENV", "development")
    started = time.monotonic()
    print(f"Migrating {url.split('@')[-1]} ...")
    prepare_database(url, args.reset)

    from sqlalchemy import func, insert, select, text
    from tqdm import tqdm

    from forum import create_app
    from forum.db import write_transaction
    from forum.demo import seed as seed_demo
    from forum.extensions import db
    from forum.markup import COOK_VERSION, cook
    from forum.models import (Category, Group, Post, PostLike, Topic, TopicUser, User,
                              utcnow)
    from forum.services import accounts
    from forum.services import posts as post_service

    set_vocabulary(args.vocabulary)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                      "SEARCH_INDEX_DIR": str(SEARCH_INDEX)})
    rng = random.Random(args.random_seed)
    with app.app_context():
        if db.session.scalar(select(func.count(Post.id))) > 0:
            sys.exit("This database already has posts. Seed an empty one (for SQLite: --reset; "
                     "for PostgreSQL: dropdb/createdb).")

        # -- through the services: the demo forum, our member, the start of the big topic --
        print(seed_demo())
        group_ids = db.session.scalars(select(Group.id)).all()
        bench = accounts.sign_up(BENCH_USERNAME, f"{BENCH_USERNAME}@example.org", BENCH_PASSWORD,
                                 name="Bench Reader", group_id=group_ids[0], verified=True)
        bench_id = bench.id
        demo_users = db.session.scalars(select(User).order_by(User.id)).all()
        general = db.session.scalar(select(Category).where(Category.slug == "general"))
        first = post_service.create_topic(
            demo_users[1], general.id, BIG_TOPIC_TITLE,
            "Every member can say here what the campaign should be. Keep it to one idea a post, "
            "and link the evidence.")
        big_id = first.topic_id
        for n, user in enumerate(demo_users[2:7], start=2):
            post_service.create_post(user, big_id, make_raw(rng, [u.username for u in demo_users]),
                                     reply_to_post_number=1 if n % 2 else None)
        post_service.like_post(bench, first.id)

        with write_transaction():
            # The conversation began a month ago; the bulk of it came after these posts.
            month = timedelta(days=30)
            big = db.session.get(Topic, big_id)
            big.created_at -= month
            for post in db.session.scalars(select(Post).where(Post.topic_id == big_id)):
                post.created_at -= month
                post.updated_at -= month
            big_start = big.highest_post_number + 1

        # -- the volume, bulk-inserted ---------------------------------------------------
        now = utcnow()
        next_user = db.session.scalar(select(func.max(User.id))) + 1
        next_topic = db.session.scalar(select(func.max(Topic.id))) + 1
        next_post = db.session.scalar(select(func.max(Post.id))) + 1
        password_hash = db.session.get(User, bench_id).password_hash  # one hash for everyone
        raws = None
        with write_transaction():
            category_ids = [c.id for c in db.session.scalars(select(Category))
                            if c.topic_creators == "everyone"]
            for n in range(args.extra_categories):
                category_ids.append(db.session.execute(insert(Category).values(
                    name=f"Bench category {n + 1}", slug=f"bench-category-{n + 1}",
                    color="#%06x" % rng.randrange(0x1000000), position=10 + n,
                    description="A category of the benchmark forum.", topic_creators="everyone",
                    topic_count=0, created_at=now)).inserted_primary_key[0])

            member_rows, usernames = [], []
            for n in range(args.members):
                name = f"member{n + 1:05d}"
                usernames.append(name)
                member_rows.append({
                    "id": next_user + n, "username": name, "username_lower": name,
                    "email": f"{name}@example.org", "email_lower": f"{name}@example.org",
                    "password_hash": password_hash, "name": f"Member {n + 1}", "bio_raw": "",
                    "bio_cooked": "", "cook_version": COOK_VERSION, "role": "member",
                    "group_id": rng.choice(group_ids), "email_verified_at": now,
                    "created_at": now - timedelta(days=400), "session_version": 1,
                    "post_count": 0})
            db.session.execute(insert(User), member_rows)
            member_ids = [row["id"] for row in member_rows]

            # A pool of bodies, each cooked once by the real renderer.
            raws = [make_raw(rng, usernames) for _ in range(args.distinct_bodies)]
            cooked = [cook(raw) for raw in raws]

            # Topic sizes: the big one, then the rest shared out unevenly.
            rest = args.posts - args.big_topic_posts
            topics = args.topics - 1
            sizes = [rng.randint(1, max(2 * rest // topics - 1, 1)) for _ in range(topics)]
            scale = rest / sum(sizes)
            sizes = [max(1, round(s * scale)) for s in sizes]
            sizes[-1] += rest - sum(sizes)
            while sizes[-1] < 1:  # rounding overshot: take it back from the largest
                i = sizes.index(max(sizes[:-1]))
                sizes[i] -= 1
                sizes[-1] += 1

            progress = tqdm(total=args.posts, unit="post", desc="posts", smoothing=0.05)
            progress.update(big_start - 1)
            post_rows, topic_rows, reads, likes = [], [], {}, set()

            def flush(force=False):
                if topic_rows and (force or len(post_rows) >= BATCH):
                    db.session.execute(insert(Topic), topic_rows)
                    topic_rows.clear()
                if post_rows and (force or len(post_rows) >= BATCH):
                    db.session.execute(insert(Post), post_rows)
                    progress.update(len(post_rows))
                    post_rows.clear()

            def add_post(topic_id, number, user_id, when):
                nonlocal next_post
                body = rng.randrange(len(raws))
                reply_to = rng.randint(1, number - 1) if number > 1 and rng.random() < 0.2 \
                    else None
                post_rows.append({
                    "id": next_post, "topic_id": topic_id, "user_id": user_id,
                    "post_number": number, "reply_to_post_number": reply_to,
                    "raw": raws[body], "cooked": cooked[body], "cook_version": COOK_VERSION,
                    "created_at": when, "updated_at": when, "version": 1, "like_count": 0,
                    "reply_count": 0})
                # Posting marks the topic read up to that post, as services.posts does.
                key = (topic_id, user_id)
                reads[key] = (max(reads.get(key, (0,))[0], number), when)
                if rng.random() < 0.2:
                    for liker in rng.sample(member_ids, rng.randint(1, 3)):
                        if liker != user_id:
                            likes.add((next_post, liker, when))
                next_post += 1
                flush()

            # The rest of the big topic: replies spread over the last month.
            span = (now - timedelta(minutes=5)) - (now - timedelta(days=30))
            count = args.big_topic_posts - big_start + 1
            for i, number in enumerate(range(big_start, args.big_topic_posts + 1)):
                when = now - timedelta(days=30) + span * ((i + 1) / (count + 1))
                add_post(big_id, number, rng.choice(member_ids), when)

            # Many topics over the last year.
            for i, size in enumerate(sizes):
                topic_id = next_topic + i
                start = now - timedelta(days=365) + timedelta(days=365) * (i / len(sizes))
                author = rng.choice(member_ids)
                topic_rows.append({
                    "id": topic_id, "title": f"{sentence(rng, 3, 9)[:-1]} ({i + 1})",
                    "slug": "", "kind": "regular", "category_id": rng.choice(category_ids),
                    "user_id": author, "created_at": start, "bumped_at": start,
                    "posts_count": 0, "highest_post_number": 0, "like_count": 0, "views": 0,
                    "closed": False, "visible": True, "pinned_globally": False})
                topic_rows[-1]["slug"] = post_service.slugify(topic_rows[-1]["title"])
                when = start
                for number in range(1, size + 1):
                    add_post(topic_id, number, author if number == 1 else rng.choice(member_ids),
                             when)
                    when += timedelta(minutes=rng.randint(1, 600))
            flush(force=True)
            progress.close()

            # The benchmark's member has read some topics fully and some in part.
            for topic_id in range(next_topic, next_topic + len(sizes), 3):
                size = sizes[topic_id - next_topic]
                reads[(topic_id, bench_id)] = (size if topic_id % 2 else max(size // 2, 1), now)
            reads[(big_id, bench_id)] = (args.big_topic_posts // 2, now)
            for chunk in tqdm(range(0, len(reads), BATCH), desc="read state", unit="batch"):
                db.session.execute(insert(TopicUser), [
                    {"topic_id": t, "user_id": u, "last_read_post_number": n,
                     "first_visited_at": when, "last_visited_at": when}
                    for (t, u), (n, when) in list(reads.items())[chunk:chunk + BATCH]])
            # And likes some posts of the big topic, on its first and last pages among others.
            big_post_ids = db.session.execute(select(Post.id, Post.user_id).where(
                Post.topic_id == big_id, Post.post_number.in_(
                    [*range(2, 20, 3), *range(args.big_topic_posts - 19,
                                              args.big_topic_posts + 1, 4)]))).all()
            likes.update((pid, bench_id, now) for pid, uid in big_post_ids if uid != bench_id)
            likes = sorted(likes)
            for chunk in tqdm(range(0, len(likes), BATCH), desc="likes", unit="batch"):
                db.session.execute(insert(PostLike), [
                    {"post_id": p, "user_id": u, "created_at": when}
                    for p, u, when in likes[chunk:chunk + BATCH]])

        proposal_id = None
        if args.proposal_amendments:
            sync_sequences(db)  # the proposal's thread is opened by the service
            proposal_id = seed_proposal(args, rng, demo_users, bench_id, member_ids)

        print("Recounting counters from the rows ...")
        recount(db)
        print("Analysing ...")
        finish(db)
        from forum.models import Amendment, AmendmentVote
        counts = {name: db.session.scalar(select(func.count()).select_from(model))
                  for name, model in (("members", User), ("topics", Topic), ("posts", Post),
                                      ("likes", PostLike), ("read states", TopicUser),
                                      ("amendments", Amendment), ("votes", AmendmentVote))}
        check_counters(db)
        if proposal_id:
            check_vote_counts(db, proposal_id)
    print("Seeded " + ", ".join(f"{n:,} {name}" for name, n in counts.items())
          + f" in {time.monotonic() - started:.0f} s. Big topic: /t/{post_service.slugify(BIG_TOPIC_TITLE)}/{big_id}"
          + (f"; proposal: /proposals/{proposal_id}" if proposal_id else ""))
    return big_id


PROPOSAL_SUMMARY = ("Cap rents, insulate every home and build council homes at scale, so that no "
                    "family chooses between heating and eating.")


def proposal_body(rng, paragraphs):
    """A policy text of the given number of paragraphs, with headings and a list or two."""
    blocks = ["## What we want"]
    for n in range(paragraphs - 1):
        if n % 6 == 5:
            blocks.append("\n".join(f"* {sentence(rng, 4, 10)}" for _ in range(3)))
        elif n % 8 == 7:
            blocks.append(f"## Part {n // 8 + 2}")
        else:
            blocks.append(" ".join(sentence(rng) for _ in range(rng.randint(2, 4))))
    return "\n\n".join(blocks)


def amended_text(rng, blocks, n):
    """What an amendment puts in place of the blocks: as members write them, mostly the same
    text with a few words changed and sometimes a sentence added; sometimes a deletion; for an
    insertion (no blocks), a new paragraph. The number n keeps every change distinct."""
    if not blocks:
        return " ".join(sentence(rng) for _ in range(rng.randint(1, 3))) + f" ({n})"
    if rng.random() < 0.05:
        return ""
    words = "\n\n".join(blocks).split(" ")
    for _ in range(rng.randint(1, 4)):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    text = " ".join(words)
    if rng.random() < 0.4:
        text += " " + sentence(rng)
    return f"{text} ({n})"


def seed_proposal(args, rng, demo_users, bench_id, member_ids):
    """Issue 3's proposal: opened through the service, then amendments and votes in bulk.

    Each amendment is built as services.amendments.propose_item builds it (cooked text and
    rationale, the stored redline of its range, its change key); each vote is one
    amendment_votes row, as services.voting.cast_vote writes it; then up, down, score and
    controversy of every item, and the proposal's item counts, are recomputed from the rows.
    """
    from sqlalchemy import bindparam, func, insert, select, text, update

    from forum.db import write_transaction
    from forum.extensions import db
    from forum.markup import COOK_VERSION, cook
    from forum.models import Amendment, AmendmentVote, Process, Proposal, utcnow
    from forum.paragraphs import split
    from forum.ranking import controversy, wilson_lower_bound
    from forum.services import amendments as amendment_service
    from forum.services import deliberation

    process = db.session.scalar(select(Process).where(Process.scope == "uk")
                                .order_by(Process.id))
    author = next(u for u in demo_users if u.username == "fiona")
    proposal = deliberation.create_proposal(author, process.id, PROPOSAL_TITLE, PROPOSAL_SUMMARY,
                                            proposal_body(rng, args.proposal_paragraphs))
    proposal_id = proposal.id
    blocks = split(db.session.scalar(
        select(text("body")).select_from(text("proposal_versions"))
        .where(text("proposal_id = :p")).params(p=proposal_id)))
    n = len(blocks)
    now = utcnow()
    authors = [u.id for u in demo_users] + member_ids
    voters = member_ids + [bench_id]
    rows, seen = [], set()
    for i in range(args.proposal_amendments):
        start = rng.randint(1, n + 1)
        end = start - 1 if start == n + 1 or rng.random() < 0.1 else \
            min(n, start + (rng.random() < 0.2))
        replacement = amended_text(rng, blocks[start - 1:end], i + 1)
        rationale = sentence(rng, 10, 30)
        user_id = rng.choice(authors)
        key = amendment_service._change_key(1, "amendment", start, end, replacement)
        if (user_id, key) in seen:
            continue
        seen.add((user_id, key))
        when = now - timedelta(days=10) + timedelta(days=10) * (i / args.proposal_amendments)
        rows.append({
            "proposal_id": proposal_id, "version_number": 1, "kind": "amendment",
            "user_id": user_id, "start": start, "end": end, "text": replacement,
            "text_cooked": cook(replacement),
            "redline": amendment_service._stored_redline("amendment", blocks, start, end,
                                                         replacement),
            "rationale": rationale, "rationale_cooked": cook(rationale),
            "cook_version": COOK_VERSION, "change_key": key, "status": "open",
            "status_reason": "", "up_count": 0, "down_count": 0, "score": 0.0,
            "controversy": 0.0, "created_at": when, "updated_at": when})
    with write_transaction():
        db.session.execute(insert(Amendment), rows)
    items = db.session.execute(select(Amendment.id, Amendment.user_id).where(
        Amendment.proposal_id == proposal_id).order_by(Amendment.id)).all()

    # Votes: some items draw far more than others, and each leans up or down its own way.
    weights = [rng.paretovariate(1.2) for _ in items]
    lean = [rng.betavariate(3, 2) for _ in items]
    votes = {}
    # The benchmark's member has voted on some of the items.
    for item_id, item_author in items[:60:2]:
        if item_author != bench_id:
            votes[(item_id, bench_id)] = 1 if item_id % 3 else -1
    picks = iter(rng.choices(range(len(items)), weights, k=args.proposal_votes * 4))
    progress = tqdm_bar(args.proposal_votes, "votes")
    for index in picks:
        if len(votes) >= args.proposal_votes:
            break
        item_id, item_author = items[index]
        voter = rng.choice(voters)
        if voter == item_author or (item_id, voter) in votes:
            continue
        votes[(item_id, voter)] = 1 if rng.random() < lean[index] else -1
    with write_transaction():
        vote_rows = [{"amendment_id": a, "user_id": u, "value": v, "created_at": now,
                      "updated_at": now} for (a, u), v in votes.items()]
        for chunk in range(0, len(vote_rows), BATCH):
            db.session.execute(insert(AmendmentVote), vote_rows[chunk:chunk + BATCH])
            progress.update(len(vote_rows[chunk:chunk + BATCH]))
    progress.close()

    with write_transaction():
        # Up and down from the rows, in SQL; then score and controversy from those counts by
        # the ranking functions the service uses.
        db.session.execute(text("""
            UPDATE amendments SET
              up_count = (SELECT count(*) FROM amendment_votes v
                          WHERE v.amendment_id = amendments.id AND v.value = 1),
              down_count = (SELECT count(*) FROM amendment_votes v
                            WHERE v.amendment_id = amendments.id AND v.value = -1)
            WHERE proposal_id = :p"""), {"p": proposal_id})
        counted = db.session.execute(select(Amendment.id, Amendment.up_count,
                                            Amendment.down_count)
                                     .where(Amendment.proposal_id == proposal_id)).all()
        db.session.connection().execute(
            update(Amendment.__table__).where(Amendment.__table__.c.id == bindparam("item_id"))
            .values(score=bindparam("s"), controversy=bindparam("c")),
            [{"item_id": i, "s": wilson_lower_bound(up, down), "c": controversy(up, down)}
             for i, up, down in counted])
        amendment_service.refresh_item_counts(proposal_id)
    return proposal_id


def tqdm_bar(total, desc):
    from tqdm import tqdm

    return tqdm(total=total, unit=desc[:-1], desc=desc, smoothing=0.05)


def check_vote_counts(db, proposal_id):
    """Every item's stored up and down equal its vote rows, and the proposal counts its items."""
    from sqlalchemy import text

    wrong = db.session.execute(text("""
        SELECT a.id FROM amendments a WHERE a.proposal_id = :p AND (
          a.up_count <> (SELECT count(*) FROM amendment_votes v
                         WHERE v.amendment_id = a.id AND v.value = 1) OR
          a.down_count <> (SELECT count(*) FROM amendment_votes v
                           WHERE v.amendment_id = a.id AND v.value = -1))"""),
        {"p": proposal_id}).scalars().all()
    assert not wrong, f"items whose counts differ from their vote rows: {wrong[:10]}"
    items, counted = db.session.execute(text(
        "SELECT (SELECT count(*) FROM amendments WHERE proposal_id = :p), amendment_count "
        "FROM proposals WHERE id = :p"), {"p": proposal_id}).one()
    assert items == counted, (items, counted)


def recount(db):
    """Every counter recomputed from the rows, in one statement per table."""
    from sqlalchemy import text

    from forum.db import write_transaction

    statements = [
        """UPDATE posts SET
             like_count = (SELECT count(*) FROM post_likes l WHERE l.post_id = posts.id),
             reply_count = (SELECT count(*) FROM posts r WHERE r.topic_id = posts.topic_id
                            AND r.reply_to_post_number = posts.post_number
                            AND r.deleted_at IS NULL)""",
        """UPDATE topics SET
             posts_count = (SELECT count(*) FROM posts p WHERE p.topic_id = topics.id
                            AND p.deleted_at IS NULL),
             highest_post_number = (SELECT coalesce(max(post_number), 0) FROM posts p
                                    WHERE p.topic_id = topics.id),
             like_count = (SELECT count(*) FROM post_likes l JOIN posts p ON p.id = l.post_id
                           WHERE p.topic_id = topics.id),
             views = (SELECT count(*) FROM topic_users tu WHERE tu.topic_id = topics.id),
             last_posted_at = (SELECT p.created_at FROM posts p WHERE p.topic_id = topics.id
                               AND p.deleted_at IS NULL ORDER BY p.post_number DESC LIMIT 1),
             last_post_user_id = (SELECT p.user_id FROM posts p WHERE p.topic_id = topics.id
                                  AND p.deleted_at IS NULL ORDER BY p.post_number DESC LIMIT 1)""",
        # A topic is bumped by its last post.
        """UPDATE topics SET bumped_at = last_posted_at WHERE last_posted_at IS NOT NULL""",
        """UPDATE users SET post_count = (SELECT count(*) FROM posts p
                                          WHERE p.user_id = users.id AND p.deleted_at IS NULL)""",
        """UPDATE categories SET topic_count = (SELECT count(*) FROM topics t
                                                WHERE t.category_id = categories.id
                                                AND t.deleted_at IS NULL)""",
    ]
    with write_transaction():
        for statement in statements:
            db.session.execute(text(statement))


def sync_sequences(db):
    """PostgreSQL: move the id sequences past the ids the bulk inserts gave explicitly."""
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect() as conn:
        for table in ("users", "topics", "posts", "categories"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT max(id) FROM {table}))"))
        conn.commit()


def finish(db):
    """Sequences past the explicit ids (PostgreSQL); planner statistics; a tidy WAL."""
    from sqlalchemy import text

    dialect = db.engine.dialect.name
    sync_sequences(db)
    if dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        db.session.close()
        raw = db.engine.raw_connection()  # pysqlite in autocommit: no BEGIN around these
        try:
            cursor = raw.cursor()
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()


def check_counters(db):
    """Spot-check: the services' own recount of a few topics and members changes nothing."""
    from sqlalchemy import select

    from forum.db import write_transaction
    from forum.models import Topic, User
    from forum.services import posts as post_service

    topics = db.session.scalars(select(Topic).order_by(Topic.posts_count.desc()).limit(5)).all()
    before = [(t.id, t.posts_count, t.like_count, t.last_posted_at, t.last_post_user_id)
              for t in topics]
    users = db.session.scalars(select(User).order_by(User.post_count.desc()).limit(5)).all()
    user_before = [(u.id, u.post_count) for u in users]
    with write_transaction():
        for t in topics:
            post_service.refresh_topic_stats(t.id)
        for u in users:
            post_service.refresh_user_post_count(u.id)
    db.session.expire_all()
    after = [(t.id, t.posts_count, t.like_count, t.last_posted_at, t.last_post_user_id)
             for t in topics]
    assert before == after, (before, after)
    assert user_before == [(u.id, u.post_count) for u in users]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else " +
                        DEFAULT_DATABASE_URL)
    parser.add_argument("--reset", action="store_true",
                        help="delete the SQLite file first")
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--topics", type=int, default=5_000)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--big-topic-posts", type=int, default=2_000)
    parser.add_argument("--extra-categories", type=int, default=8)
    parser.add_argument("--distinct-bodies", type=int, default=400,
                        help="how many different post bodies to cook and reuse")
    parser.add_argument("--proposal-amendments", type=int, default=500,
                        help="amendments on the proposal of issue 3 (0: no proposal)")
    parser.add_argument("--proposal-votes", type=int, default=20_000,
                        help="votes on those amendments, spread unevenly over them")
    parser.add_argument("--proposal-paragraphs", type=int, default=40)
    parser.add_argument("--vocabulary", type=int, default=0,
                        help="draw words from this many with Zipf's law frequencies, the "
                             "topical ones among them (0: the 66 topical words alone)")
    parser.add_argument("--random-seed", type=int, default=2027)
    args = parser.parse_args(argv)
    if args.posts < args.big_topic_posts + args.topics - 1:
        parser.error("--posts must cover the big topic and one post per other topic")
    seed(args)


if __name__ == "__main__":
    main()
