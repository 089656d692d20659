"""Benchmark search on the seeded forum: the full index rebuild, and search latency under load.

    .venv/bin/python bench/search.py                        # Whoosh over bench/results/forum-bench.db
    .venv/bin/python bench/search.py --backend postgres --database-url postgresql+psycopg://...

Uses the database bench/seed.py made (100,000 posts; seed it first). Migrates it (the search
tables), rebuilds the index with `flask forum reindex` and times it (wall clock, and the CPU the
command used, which is what a quiet 2-core machine would take), then serves the forum with
gunicorn and drives wrk at 8 connections against /search.json for two kinds of query, each
rotating through many words and filters: one word with a filter, and two words with a filter.
p50 and p95 come from wrk's own latency histogram (a Lua done() hook). Writes
bench/results/search-*.json and the "Search" section of docs/benchmarks.md (between
<!-- search:start --> and <!-- search:end -->; the rest of the file is left as it is).
Every request goes to 127.0.0.1; every wait is bounded in time.
"""
import argparse
import json
import os
import random
import resource
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.run import (HOST, free_port, git_revision, machine, replace_section,  # noqa: E402
                       request, start_gunicorn, stop, wait_until_serving)
from bench.seed import DEFAULT_DATABASE_URL, RESULTS, WORDS  # noqa: E402

CONNECTIONS = 8
BUDGET_P95_MS = 50.0
BUDGET_REBUILD_S = 120.0
START, END = "<!-- search:start -->", "<!-- search:end -->"

LUA = """
local queries = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/search.json?q=" .. queries[(n %% #queries) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%f %%f %%f %%d %%d %%d\\n", latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, summary.requests,
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def queries(kind, rng, count=40):
    """Queries of one kind, each with one filter: a type, a category, a member or a date."""
    filters = ["type:post", "type:topic", "#general"] + \
        [f"#bench-category-{n}" for n in range(1, 9)] + \
        [f"@member{n:05d}" for n in rng.sample(range(1, 2001), 10)] + \
        ["after:2026-01-01", "order:latest"]
    words = [w.lower() for w in WORDS]
    made = []
    for _ in range(count):
        text = rng.choice(words) if kind == "one word" else " ".join(rng.sample(words, 2))
        made.append(f"{text} {rng.choice(filters)}")
    return made


def flask(args, env, *command, timeout=3600):
    return subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=True)


def rebuild(env):
    """Time `flask forum reindex`: wall clock, and CPU of the command and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "flask", "forum", "reindex"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=3600, check=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = out.stdout.strip().splitlines()[-1]
    return {"wall_s": wall, "cpu_s": cpu, "output": line,
            "documents": int(line.split()[1].replace(",", ""))}


def wrk(port, script, seconds, threads=2):
    command = ["wrk", "--threads", str(threads), "--connections", str(CONNECTIONS),
               "--duration", f"{seconds}s", "--timeout", "5s", "--script", str(script),
               "--header", "User-Agent: forum-bench/1", f"http://{HOST}:{port}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                         check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    p50, p95, p99, requests, non_2xx, errors = line.split()[1:]
    rps = float(next(l for l in out.splitlines() if "Requests/sec" in l).split()[-1])
    return {"p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99),
            "requests": int(requests), "rps": rps, "non_2xx": int(non_2xx),
            "socket_errors": int(errors),
            "command": shlex.join(command[:-5]) + " --script " + Path(script).name
            + f" --header 'User-Agent: forum-bench/1' http://{HOST}:<port>"}


def measure(args, env):
    rng = random.Random(2027)
    port = free_port()
    server = start_gunicorn("search", "wsgi:app", ROOT, port, args, env)
    rows = []
    try:
        wait_until_serving(port, "/search.json?q=housing", server, timeout=120)
        with tempfile.TemporaryDirectory() as tmp:
            for kind in ("one word", "two words"):
                made = queries(kind, rng)
                for q in made:  # every query answers 200 before any load
                    status, _h, body = request("GET", port,
                                               "/search.json?q=" + urllib.parse.quote(q))
                    if status != 200:
                        raise SystemExit(f"{q!r} answered {status}: {body[:200]}")
                script = Path(tmp) / f"{kind.replace(' ', '-')}.lua"
                script.write_text(LUA % ", ".join(
                    json.dumps(urllib.parse.quote(q)) for q in made))
                if args.warmup:
                    wrk(port, script, args.warmup, args.wrk_threads)
                result = wrk(port, script, args.duration, args.wrk_threads)
                result.update(kind=kind, examples=made[:3], queries=len(made))
                result["pass"] = result["p95_ms"] < BUDGET_P95_MS and not (
                    result["non_2xx"] or result["socket_errors"])
                rows.append(result)
    finally:
        stop(server)
    return rows


def report(args, result, output):
    m = result["machine"]
    r = result["rebuild"]
    lines = ["## Search (issue 6)" + (f", {args.title}" if args.title else ""), "",
             "Generated by `bench/search.py` (this section only).",
             "",
             f"**Command:** `{result['command']}`  ",
             f"**When:** {result['started']} · **code:** {result['revision']} · "
             f"**backend:** {result['backend']} · **data:** {r['documents']:,} documents "
             "(topics and posts of `bench/seed.py`).",
             "",
             f"Budgets on a 2-core machine: p95 under {BUDGET_P95_MS:.0f} ms for one- and "
             f"two-word queries with a filter at {CONNECTIONS} connections; a full rebuild in "
             f"under {BUDGET_REBUILD_S / 60:.0f} minutes.",
             "",
             "| query | examples | req/s | p50 | p95 | p99 | budget |",
             "|---|---|---:|---:|---:|---:|---|"]
    for row in result["rows"]:
        examples = ", ".join(f"`{q}`" for q in row["examples"][:2])
        lines.append(f"| {row['kind']} + a filter ({row['queries']} queries in turn) | "
                     f"{examples} | {row['rps']:,.0f} | {row['p50_ms']:.1f} ms | "
                     f"{row['p95_ms']:.1f} ms | {row['p99_ms']:.1f} ms | "
                     f"{'pass' if row['pass'] else '**FAIL**'} |")
    wall_ok = r["wall_s"] < BUDGET_REBUILD_S
    lines += ["",
              f"**Full rebuild** (`flask forum reindex`, {r['documents']:,} documents): "
              f"{r['wall_s']:.0f} s on the clock ({'pass' if wall_ok else '**FAIL**'} against "
              f"{BUDGET_REBUILD_S:.0f} s), using {r['cpu_s']:.0f} s of CPU in its processes "
              "(SEARCH_REBUILD_PROCS, by default one per core up to 2, each writing a segment); "
              "the clock time includes any wait for other jobs on these cores (see the load "
              "average below).",
              "",
              f"Load average before → after: {' '.join(result['load_before'])} → "
              f"{' '.join(result['load_after'])}. Servers: gunicorn, {args.workers} sync "
              f"workers, `FORUM_ENV=production`; wrk with {args.wrk_threads} threads on the "
              f"same cores; {args.warmup} s warm-up, then {args.duration} s measured per row by "
              f"`{result['rows'][0]['command']}` with a Lua script rotating through the "
              f"queries. Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, "
              f"SQLite {m['sqlite']}.",
              ]
    suffix = "" if args.section == "search" else f"-{args.section}"
    replace_section(output, START.replace("search", "search" + suffix),
                    END.replace("search", "search" + suffix), "\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="whoosh", choices=["whoosh", "postgres"])
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else "
                        + DEFAULT_DATABASE_URL)
    parser.add_argument("--index-dir", default=str(RESULTS / "search-index"))
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--worker-class", default="sync", choices=["sync"])
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per row")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--skip-rebuild", action="store_true",
                        help="measure queries against the index as it is")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--section", default="search",
                        help="the report's section markers: <!-- search:start --> by default, "
                             "<!-- search-NAME:start --> for another data set")
    parser.add_argument("--title", default="", help="added to the section's heading")
    args = parser.parse_args(argv)
    database_url = args.database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    env = dict(os.environ, FLASK_APP="wsgi.py", FORUM_ENV="production",
               SECRET_KEY=secrets.token_urlsafe(48), DATABASE_URL=database_url,
               SEARCH_BACKEND=args.backend, SEARCH_INDEX_DIR=args.index_dir,
               RATELIMIT_SEARCH="1000000 per minute", RATELIMIT_SEARCH_NEW="1000000 per minute",
               RATELIMIT_SEARCH_IP="1000000 per minute", PYTHONPATH=str(ROOT))
    result = {"command": shlex.join([".venv/bin/python", "bench/search.py", *sys.argv[1:]]),
              "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "revision": git_revision(), "backend": args.backend, "machine": machine(),
              "load_before": Path("/proc/loadavg").read_text().split()[:3]}
    flask(args, env, "db", "upgrade")
    if args.skip_rebuild:
        result["rebuild"] = {"wall_s": 0, "cpu_s": 0, "documents": 0, "output": "skipped"}
    else:
        print("Rebuilding the index ...", flush=True)
        result["rebuild"] = rebuild(env)
        print(f"  {result['rebuild']['output']} in {result['rebuild']['wall_s']:.0f} s "
              f"({result['rebuild']['cpu_s']:.0f} s CPU)", flush=True)
    print("Measuring queries ...", flush=True)
    result["rows"] = measure(args, env)
    result["load_after"] = Path("/proc/loadavg").read_text().split()[:3]
    for row in result["rows"]:
        print(f"  {row['kind']}: p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms, "
              f"{row['rps']:.0f} req/s")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"search-{stamp}.json").write_text(json.dumps(result, indent=2))
    if not args.skip_rebuild:
        report(args, result, Path(args.output))
    return result


if __name__ == "__main__":
    main()
