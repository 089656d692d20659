"""Benchmark issue 3: the page of a proposal with 500 amendments and 20,000 votes, and voting.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/forum_bench \\
        .venv/bin/python bench/proposal.py

Uses a database bench/seed.py made (its proposal: --proposal-amendments, --proposal-votes).
Serves the forum (bench/bench_wsgi.py: production settings, rate limits off) and the bare
Flask ceiling (bench/ceiling.py) with the same gunicorn settings, and measures in one run:

- the proposal's page, signed in (and anonymous, for comparison), with wrk at 16 connections,
  against the ceiling measured before and after it;
- the vote endpoint, POST /amendments/<id>/vote.json with a JSON body, signed by an API key
  (Api-Key and Api-Username headers: no cookie, so no CSRF token), driven by wrk and a Lua
  script over many (member, item) pairs, each request the opposite of what that member's
  vote on that item stands at, so every request changes a vote row (insert or flip) and the
  item's counts.

Afterwards it checks that every item's stored up and down counts equal its vote rows, and
that every vote the run sent is stored as sent. Writes bench/results/proposal-*.json and the
"Proposal" section of docs/benchmarks.md (between <!-- proposal:start --> and
<!-- proposal:end -->). Every request goes to 127.0.0.1; every wait is bounded in time.
"""
import argparse
import json
import os
import random
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.run import (HOST, USER_AGENT, free_port, git_revision, machine,  # noqa: E402
                       replace_section, request, rss_mb, sign_in, start_gunicorn, stop,
                       wait_until_serving, worker_pids)
from bench.run import wrk as wrk_get  # noqa: E402
from bench.seed import RESULTS, SEARCH_INDEX  # noqa: E402

BUDGET_PAGE_SHARE = 0.15
BUDGET_VOTES_PER_S = 500.0
BUDGET_VOTE_P99_MS = 50.0
START, END = "<!-- proposal:start -->", "<!-- proposal:end -->"

LUA = r"""
local items = {%(items)s}
local users = {%(users)s}
local values = {%(values)s}
local key = "%(key)s"
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  sent = 0
  bad = 0
  mine = {}
  for i = tid + 1, #items, %(threads)d do mine[#mine + 1] = i end
end

function request()
  sent = sent + 1
  local i = mine[((sent - 1) %% #mine) + 1]
  local v = values[i]
  values[i] = -v
  return wrk.format("POST", "/amendments/" .. items[i] .. "/vote.json",
    {["Api-Key"] = key, ["Api-Username"] = users[i], ["Content-Type"] = "application/json",
     ["Accept"] = "application/json", ["User-Agent"] = "%(agent)s"},
    '{"value": ' .. v .. '}')
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if bad <= 3 then io.write("STATUS " .. status .. " " .. string.sub(body, 1, 300) .. "\n") end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local parts = {}
  for _, t in ipairs(threads) do parts[#parts + 1] = t:get("tid") .. ":" .. t:get("sent") end
  io.write(string.format("RESULT %%f %%f %%f %%d %%d %%d %%s\n", latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
"""


# -- the database ------------------------------------------------------------------------------

def app_context(database_url):
    os.environ["DATABASE_URL"] = database_url
    from forum import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url}).app_context()


def proposal_info(database_url):
    """The proposal with the most amendments, its open items, and the members who may vote."""
    from sqlalchemy import func, select

    from forum.extensions import db
    from forum.models import Amendment, AmendmentVote, Proposal, User

    with app_context(database_url):
        proposal = db.session.scalars(select(Proposal).order_by(
            Proposal.amendment_count.desc())).first()
        items = db.session.execute(select(Amendment.id, Amendment.user_id).where(
            Amendment.proposal_id == proposal.id, Amendment.status == "open",
            Amendment.hidden_at.is_(None))).all()
        members = db.session.execute(select(User.id, User.username).where(
            User.username.like("member%"), User.email_verified_at.is_not(None))).all()
        info = {"proposal_id": proposal.id, "path": f"/proposals/{proposal.id}",
                "amendments": proposal.amendment_count,
                "votes": db.session.scalar(select(func.count()).select_from(AmendmentVote).join(
                    Amendment).where(Amendment.proposal_id == proposal.id)),
                "items": [tuple(i) for i in items], "members": [tuple(m) for m in members]}
        db.engine.dispose()
    return info


def current_votes(database_url, proposal_id):
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import Amendment, AmendmentVote

    with app_context(database_url):
        rows = db.session.execute(
            select(AmendmentVote.amendment_id, AmendmentVote.user_id, AmendmentVote.value)
            .join(Amendment).where(Amendment.proposal_id == proposal_id)).all()
        db.engine.dispose()
    return {(a, u): v for a, u, v in rows}


def count_check(database_url, proposal_id):
    """Items whose stored up or down count differs from their vote rows (should be none)."""
    from sqlalchemy import text

    from forum.extensions import db

    with app_context(database_url):
        rows = db.session.execute(text("""
            SELECT a.id, a.up_count, a.down_count,
                   (SELECT count(*) FROM amendment_votes v
                    WHERE v.amendment_id = a.id AND v.value = 1),
                   (SELECT count(*) FROM amendment_votes v
                    WHERE v.amendment_id = a.id AND v.value = -1)
            FROM amendments a WHERE a.proposal_id = :p"""), {"p": proposal_id}).all()
        db.engine.dispose()
    wrong = [r for r in rows if (r[1], r[2]) != (r[3], r[4])]
    return {"items": len(rows), "votes": sum(r[3] + r[4] for r in rows),
            "wrong": [list(r) for r in wrong[:10]], "wrong_count": len(wrong)}


def make_pairs(info, count, rng):
    """Distinct (item, member) pairs, never a member's own item."""
    pairs, seen = [], set()
    members, items = info["members"], info["items"]
    while len(pairs) < count:
        item_id, author = rng.choice(items)
        user_id, username = rng.choice(members)
        if user_id == author or (item_id, user_id) in seen:
            continue
        seen.add((item_id, user_id))
        pairs.append((item_id, user_id, username))
    return pairs


def api_key(env):
    """A key that acts as whichever member the Api-Username header names."""
    out = subprocess.run([sys.executable, "-m", "flask", "forum", "create-api-key",
                          "--description", "benchmark votes (bench/proposal.py)"], cwd=ROOT,
                         env=dict(env, FLASK_APP="wsgi.py"), capture_output=True, text=True,
                         timeout=120, check=True)
    return out.stdout.strip().splitlines()[-1].strip()


# -- wrk for votes -----------------------------------------------------------------------------

def vote_wrk(args, port, key, pairs, stored, seconds, tmp):
    """One wrk run over the pairs; returns the numbers and what each pair should now hold."""
    values = []
    for n, (item_id, user_id, _name) in enumerate(pairs):
        now = stored.get((item_id, user_id), 0)
        values.append(-now if now else (1 if n % 2 else -1))
    script = Path(tmp) / "votes.lua"
    script.write_text(LUA % {
        "items": ",".join(str(p[0]) for p in pairs),
        "users": ",".join(json.dumps(p[2]) for p in pairs),
        "values": ",".join(map(str, values)), "key": key, "threads": args.wrk_threads,
        "agent": USER_AGENT})
    command = ["wrk", "--threads", str(args.wrk_threads), "--connections",
               str(args.vote_connections), "--duration", f"{seconds}s", "--timeout", "5s",
               "--script", str(script), f"http://{HOST}:{port}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                         check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    p50, p90, p99, requests, non_2xx, errors, sent = line.split()[1:]
    rps = float(next(l for l in out.splitlines() if "Requests/sec" in l).split()[-1])
    statuses = [l for l in out.splitlines() if l.startswith("STATUS ")]
    # Replay what each thread sent: the value each pair should now hold. The last request of
    # each connection may still have been on its way when wrk stopped: those pairs are unsure.
    # wrk calls the first thread's request() once before the run to check the request it
    # makes, and never sends that one.
    expected, unsure = {}, set()
    for part in sent.split(","):
        tid, count = map(int, part.split(":"))
        mine = list(range(tid, len(pairs), args.wrk_threads))
        current = {i: values[i] for i in mine}
        for k in range(count):
            i = mine[k % len(mine)]
            if tid or k:
                expected[i] = current[i]
            current[i] = -current[i]
            if k >= count - args.vote_connections:
                unsure.add(i)
    return {"rps": rps, "p50_ms": float(p50), "p90_ms": float(p90), "p99_ms": float(p99),
            "requests": int(requests), "non_2xx": int(non_2xx), "socket_errors": int(errors),
            "bad_answers": statuses,
            "command": shlex.join(command[:-3]) + " --script votes.lua " +
            f"http://{HOST}:<port>"}, expected, unsure


# -- the run -----------------------------------------------------------------------------------

def measure_page(args, port, path, master, cookie=None):
    url = f"http://{HOST}:{port}{path}"
    if args.warmup:
        wrk_get(url, args.warmup, cookie, args.wrk_threads)
    result = wrk_get(url, args.duration, cookie, args.wrk_threads)
    result["worker_rss_mb"] = max(rss_mb(p) for p in worker_pids(master.pid))
    return result


def loadavg():
    return Path("/proc/loadavg").read_text().split()[:3]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per row")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per row")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--vote-connections", type=int, default=16)
    parser.add_argument("--pairs", type=int, default=60_000,
                        help="(member, item) pairs the votes go round")
    parser.add_argument("--search-backend", default="postgres", choices=["postgres", "whoosh"])
    parser.add_argument("--no-search-catch-up", action="store_true",
                        help="diagnostic: no search catch-up after each commit (the outbox "
                             "is still written)")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    args.worker_class = "sync"
    database_url = args.database_url or os.environ.get("DATABASE_URL")
    if not database_url:
        parser.error("give --database-url or $DATABASE_URL (the votes budget is for PostgreSQL)")
    command = shlex.join([".venv/bin/python", "bench/proposal.py", *sys.argv[1:]])
    RESULTS.mkdir(parents=True, exist_ok=True)

    info = proposal_info(database_url)
    print(f"proposal {info['path']}: {info['amendments']} amendments, {info['votes']:,} votes",
          flush=True)
    before = count_check(database_url, info["proposal_id"])
    env = dict(os.environ, FORUM_ENV="production", SECRET_KEY=secrets.token_urlsafe(48),
               DATABASE_URL=database_url, SEARCH_INDEX_DIR=str(SEARCH_INDEX),
               SEARCH_BACKEND=args.search_backend, PYTHONDONTWRITEBYTECODE="1")
    env.pop("FLASK_DEBUG", None)
    if args.no_search_catch_up:
        env["BENCH_SEARCH_CATCH_UP_AFTER_COMMIT"] = "0"
    key = api_key(env)
    rng = random.Random(2027)
    pairs = make_pairs(info, args.pairs, rng)

    result = {"command": command, "revision": git_revision(), "machine": machine(),
              "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "database": database_url.split("://")[0], "info": {
                  k: v for k, v in info.items() if k not in ("items", "members")},
              "counts_before": before, "workers": args.workers,
              "search_backend": args.search_backend + (
                  ", no catch-up after each commit (diagnostic)" if args.no_search_catch_up
                  else "")}
    forum_port, ceiling_port = free_port(), free_port()
    forum = start_gunicorn("forum", "bench.bench_wsgi:app", ROOT, forum_port, args, env)
    ceiling = start_gunicorn("ceiling", "ceiling:app", ROOT / "bench", ceiling_port, args, env)
    try:
        wait_until_serving(forum_port, info["path"], forum)
        wait_until_serving(ceiling_port, "/", ceiling)
        cookie = sign_in(forum_port)
        for who, c in (("signed in", cookie), ("anonymous", None)):
            status, _h, body = request("GET", forum_port, info["path"],
                                       headers={"Cookie": c} if c else None)
            if status != 200 or ("Sign out" in body) != bool(c):
                raise SystemExit(f"the proposal page ({who}) answered {status}")
        result["load_before"] = loadavg()
        print(f"load before: {' '.join(result['load_before'])}", flush=True)
        rows = [{"row": "ceiling (bare Flask, 5 KB template)",
                 **measure_page(args, ceiling_port, "/", ceiling)}]
        rows.append({"row": "proposal page, signed in",
                     **measure_page(args, forum_port, info["path"], forum, cookie)})
        rows.append({"row": "proposal page, anonymous",
                     **measure_page(args, forum_port, info["path"], forum)})
        with tempfile.TemporaryDirectory() as tmp:
            if args.warmup:
                vote_wrk(args, forum_port, key, pairs,
                         current_votes(database_url, info["proposal_id"]), args.warmup, tmp)
                # The workers finish the warm-up's last requests after wrk has gone: let them,
                # so the measured run starts from the votes as they finally stand.
                time.sleep(5)
            stored = current_votes(database_url, info["proposal_id"])
            votes, expected, unsure = vote_wrk(args, forum_port, key, pairs, stored,
                                               args.duration, tmp)
        votes["worker_rss_mb"] = max(rss_mb(p) for p in worker_pids(forum.pid))
        rows.append({"row": "vote (POST /amendments/<id>/vote.json)", **votes})
        rows.append({"row": "ceiling again, at the end",
                     **measure_page(args, ceiling_port, "/", ceiling)})
        result["load_after"] = loadavg()
        print(f"load after: {' '.join(result['load_after'])}", flush=True)
    finally:
        stop(forum)
        stop(ceiling)

    # Every vote stored as sent, and every item's counts equal to its rows.
    stored_after = current_votes(database_url, info["proposal_id"])
    sure = [i for i in expected if i not in unsure]
    mismatched = [i for i in sure
                  if stored_after.get((pairs[i][0], pairs[i][1]), 0) != expected[i]]
    result["votes_check"] = {"pairs_sent": len(expected), "checked": len(sure),
                             "stored_as_sent": len(sure) - len(mismatched),
                             "mismatched": len(mismatched)}
    result["counts_after"] = count_check(database_url, info["proposal_id"])
    ceiling_rps = max(rows[0]["rps"], rows[-1]["rps"])
    for row in rows:
        row["share"] = row["rps"] / ceiling_rps
    page, vote = rows[1], rows[3]
    result["ceiling_rps"] = ceiling_rps
    result["checks"] = {
        "page_share": page["share"] >= BUDGET_PAGE_SHARE and not page["non_2xx"],
        "votes_per_s": vote["rps"] >= BUDGET_VOTES_PER_S,
        "vote_p99": vote["p99_ms"] < BUDGET_VOTE_P99_MS,
        "votes_clean": not (vote["non_2xx"] or vote["socket_errors"]),
        "counts_match_rows": result["counts_after"]["wrong_count"] == 0,
        "votes_stored_as_sent": not mismatched}
    result["rows"] = rows
    for row in rows:
        print(f"  {row['row']:<42} {row['rps']:>8.0f} req/s {row['share']:>5.0%}  "
              f"p50 {row['p50_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  "
              f"rss {row['worker_rss_mb']:4.0f} MB  non-2xx {row['non_2xx']}", flush=True)
    for line in vote.get("bad_answers", []):
        print("  " + line)
    print(f"  votes: {result['votes_check']}; counts after: {result['counts_after']}")
    print(f"  checks: {result['checks']}")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"proposal-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    report(args, result, Path(args.output))
    print(f"wrote {args.output}")
    return result


def mark(ok):
    return "pass" if ok else "**FAIL**"


def report(args, result, output):
    m, rows, c = result["machine"], result["rows"], result["checks"]
    page, vote = rows[1], rows[3]
    vc, after = result["votes_check"], result["counts_after"]
    lines = [
        "## Proposal page and voting (issue 3)", "",
        "Generated by `bench/proposal.py` (this section only).", "",
        f"**Command:** `{result['command']}`  ",
        f"**When:** {result['started']} · **code:** {result['revision']} · **database:** "
        f"{result['database']} · **data:** the proposal {result['info']['path']} with "
        f"{result['info']['amendments']:,} amendments and {result['info']['votes']:,} votes "
        "(`bench/seed.py`), in the same 100,000-post forum.", "",
        f"Budgets: the proposal's page, signed in, at least {BUDGET_PAGE_SHARE:.0%} of the "
        f"ceiling's requests per second; the vote endpoint on PostgreSQL at least "
        f"{BUDGET_VOTES_PER_S:.0f} votes/s with p99 under {BUDGET_VOTE_P99_MS:.0f} ms.", "",
        "| row | req/s | share of ceiling | p50 | p99 | worker RSS | non-2xx | budget |",
        "|---|---:|---:|---:|---:|---:|---:|---|"]
    verdicts = {1: mark(c["page_share"]), 2: "(comparison)",
                3: f"{mark(c['votes_per_s'])} (rate), {mark(c['vote_p99'])} (p99)"}
    for n, row in enumerate(rows):
        lines.append(f"| {row['row']} | {row['rps']:,.0f} | {row['share']:.0%} | "
                     f"{row['p50_ms']:.1f} ms | {row['p99_ms']:.1f} ms | "
                     f"{row['worker_rss_mb']:.0f} MB | {row['non_2xx']} | "
                     f"{verdicts.get(n, 'reference')} |")
    lines += [
        "",
        f"Ceiling: {result['ceiling_rps']:,.0f} req/s (the higher of its two measurements). "
        f"Pages: `{page['command']}` (signed in: plus the session cookie). Votes: "
        f"`{vote['command']}`, {vote['requests']:,} requests; the Lua script goes round "
        f"{args.pairs:,} distinct (member, item) pairs over all the proposal's open "
        "amendments and about 2,000 members, each thread its own share of them, and each "
        "request sends the opposite of the vote that member holds on that item (a new vote "
        "where there was none, else a flip of +1 to -1 or back), so every request changes "
        "a row and the item's counts. Each vote is `POST /amendments/<id>/vote.json` with "
        "`{\"value\": 1}` or `-1` and the headers `Api-Key` (one key from "
        "`flask forum create-api-key`, acting as the member named in `Api-Username`) and "
        "`Api-Username`.", "",
        "**Rate limits were off** for this server (`bench/bench_wsgi.py`: the production app "
        "with `RATELIMIT_ENABLED = False`); with them on, a member may vote 60 times a "
        "minute and an address 120 times, so nearly every request would be a 429.", "",
        f"**Checks after the run:** {after['items']} items hold {after['votes']:,} vote rows; "
        f"items whose stored up/down differ from their rows: {after['wrong_count']} "
        f"({mark(c['counts_match_rows'])}; before the run: "
        f"{result['counts_before']['wrong_count']}). Of the {vc['pairs_sent']:,} pairs voted "
        f"on, {vc['checked']:,} were checked (the last request of each connection may have "
        f"been cut off when wrk stopped) and {vc['stored_as_sent']:,} hold the value last "
        f"sent ({mark(c['votes_stored_as_sent'])}).", "",
        f"Servers: gunicorn, {args.workers} sync workers each for the forum and the ceiling, "
        f"`FORUM_ENV=production`, search backend `{result['search_backend']}` (each vote "
        "queues the item for re-indexing, as the service does). wrk with "
        f"{args.wrk_threads} threads on the same 2 cores; {args.warmup} s warm-up, then "
        f"{args.duration} s measured per row; {args.vote_connections} connections for votes. "
        f"Load average before → after: {' '.join(result['load_before'])} → "
        f"{' '.join(result['load_after'])}. Machine: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gb']} GB; Python {m['python']}, SQLAlchemy {m['sqlalchemy']}, gunicorn "
        f"{m['gunicorn']}."]
    replace_section(output, START, END, "\n".join(lines))


if __name__ == "__main__":
    main()
