"""Benchmark the forum's read path under gunicorn with wrk, beside a bare Flask ceiling page.

    make bench                       # = .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --workers 3 --duration 10 --repeat 2

Seeds bench/results/forum-bench.db first if it is missing (or uses $DATABASE_URL), starts
gunicorn for the forum and for bench/ceiling.py on loopback ports, signs the benchmark's member
in for a session cookie, and drives wrk at 16 connections against /latest and the first and last
pages of the 2,000-post topic, signed in and anonymous, and against the ceiling page, all in the
same run. Writes docs/benchmarks.md (a table with pass/fail against the budgets) and
bench/results/run-*.json. Every request goes to 127.0.0.1; every wait is bounded in time.
"""
import argparse
import html
import http.client
import json
import os
import platform
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.seed import (BENCH_PASSWORD, BENCH_USERNAME, DEFAULT_DATABASE_URL,  # noqa: E402
                        RESULTS, SEARCH_INDEX)

HOST = "127.0.0.1"
USER_AGENT = "forum-bench/1"  # Flask-Login's strong session protection hashes it: keep it fixed
CONNECTIONS = 16
BUDGET_CEILING_SHARE = 0.20
BUDGET_P99_MS = 25.0
BUDGET_RSS_MB = 80.0
START, END = "<!-- pages:start -->", "<!-- pages:end -->"


# -- servers -------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(name, app, chdir, port, args, env):
    log = open(RESULTS / f"gunicorn-{name}.log", "w")
    command = [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(args.workers),
               "--worker-class", args.worker_class, "--bind", f"{HOST}:{port}",
               "--chdir", str(chdir), "--log-level", "warning", "--timeout", "60"]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads_per_worker)]
    command.append(app)
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    process.command = command
    return process


def wait_until_serving(port, path, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn on port {port} exited; see bench/results/gunicorn-*.log")
        try:
            status, _headers, _body = request("GET", port, path)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"nothing served on {HOST}:{port} within {timeout} s")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # gunicorn's master stops its workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def worker_pids(master_pid):
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command may hold spaces and brackets; fields after the last ")" are fixed.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == master_pid:
            children.append(int(entry.name))
    return sorted(children)


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- HTTP to loopback only ---------------------------------------------------------------------

def request(method, port, path, body=None, headers=None):
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def cookies_from(headers):
    jar = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            jar[key.strip()] = val.strip()
    return jar


def sign_in(port):
    """GET the form for its CSRF token, POST the member's credentials: a session cookie."""
    status, headers, page = request("GET", port, "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if status != 200 or not token:
        raise SystemExit("could not read the sign-in form")
    jar = cookies_from(headers)
    form = urllib.parse.urlencode({"login": BENCH_USERNAME, "password": BENCH_PASSWORD,
                                   "csrf_token": html.unescape(token.group(1))})
    status, headers, _ = request("POST", port, "/login", form, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    if status != 302:
        raise SystemExit(f"sign-in answered {status}, not a redirect")
    jar.update(cookies_from(headers))
    # The first signed-in page adds a CSRF token to the session, as a browser would keep it;
    # wrk sends one fixed cookie, so take the session as it stands after that page.
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items() if v)
    _status, headers, _ = request("GET", port, "/latest", headers={"Cookie": cookie})
    jar.update(cookies_from(headers))
    return "; ".join(f"{k}={v}" for k, v in jar.items() if v)


# -- wrk ---------------------------------------------------------------------------------------

def to_ms(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url, seconds, cookie=None, threads=2):
    command = ["wrk", "--threads", str(threads), "--connections", str(CONNECTIONS),
               "--duration", f"{seconds}s", "--timeout", "5s", "--latency",
               "--header", f"User-Agent: {USER_AGENT}"]
    if cookie:
        command += ["--header", f"Cookie: {cookie}"]
    command.append(url)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                         check=True).stdout
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50_ms": to_ms(latency["50"]), "p90_ms": to_ms(latency["90"]),
            "p99_ms": to_ms(latency["99"]),
            "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": sum(map(int, errors.groups())) if errors else 0,
            "command": redact(shlex.join(command))}


def redact(command):
    """A wrk command as the report shows it: no session cookie, no port of the moment."""
    command = re.sub(r"'Cookie: [^']*'", "'Cookie: <session cookie>'", command)
    return re.sub(rf"http://{re.escape(HOST)}:\d+", f"http://{HOST}:<port>", command)


# -- the run -----------------------------------------------------------------------------------

def big_topic(database_url):
    """The topic with the most posts: its path and its last page."""
    os.environ["DATABASE_URL"] = database_url
    from sqlalchemy import select

    from forum import create_app
    from forum.extensions import db
    from forum.models import Post, Topic

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        posts = db.session.scalar(select(db.func.count(Post.id)))
        topic = db.session.scalars(select(Topic).order_by(Topic.posts_count.desc())).first()
        info = {"posts": posts, "topic_path": f"/t/{topic.slug}/{topic.id}",
                "topic_posts": topic.highest_post_number,
                "last_page": (topic.highest_post_number - 1) // 20 + 1}
        db.engine.dispose()
    return info


def ensure_seeded(database_url, min_posts=100_000, min_topic_posts=2_000):
    if database_url.startswith("sqlite:///") and \
            not Path(database_url[len("sqlite:///"):]).exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "seed.py"), "--reset",
                        "--database-url", database_url], check=True)
    info = big_topic(database_url)
    if info["posts"] < min_posts or info["topic_posts"] < min_topic_posts:
        raise SystemExit("the database is not seeded for the benchmark: run bench/seed.py")
    return info


def cases(info):
    topic, last = info["topic_path"], info["last_page"]
    pages = [("/latest", "/latest"), ("topic, first page", topic),
             ("topic, last page", f"{topic}?page={last}")]
    return [(label, path, who) for label, path in pages for who in ("signed in", "anonymous")]


def check_pages(port, cookie, info):
    """Every measured URL answers 200, signed in where it should be, before any load."""
    for label, path, who in cases(info):
        status, _h, body = request("GET", port, path,
                                   headers={"Cookie": cookie} if who == "signed in" else None)
        signed_in = "Sign out" in body
        if status != 200 or signed_in != (who == "signed in"):
            raise SystemExit(f"{label} ({who}) answered {status}, signed in: {signed_in}")


def one_run(args, info, forum_port, ceiling_port, forum, ceiling, cookie):
    def measure(port, path, master, cookie=None):
        url = f"http://{HOST}:{port}{path}"
        if args.warmup:
            wrk(url, args.warmup, cookie, args.wrk_threads)
        result = wrk(url, args.duration, cookie, args.wrk_threads)
        workers = worker_pids(master.pid)
        result["worker_rss_mb"] = max(rss_mb(p) for p in workers)
        result["workers"] = len(workers)
        return result

    load_before = Path("/proc/loadavg").read_text().split()[:3]
    rows = [{"page": "ceiling (bare Flask, 5 KB template)", "who": "", "path": "/",
             **measure(ceiling_port, "/", ceiling)}]
    for label, path, who in cases(info):
        rows.append({"page": label, "who": who, "path": path,
                     **measure(forum_port, path, forum, cookie if who == "signed in" else None)})
    rows.append({"page": "ceiling again, at the end", "who": "", "path": "/",
                 **measure(ceiling_port, "/", ceiling)})
    ceiling_rps = max(rows[0]["rps"], rows[-1]["rps"])  # the stricter reference
    for row in rows:
        row["share"] = row["rps"] / ceiling_rps
        row["checks"] = {
            "share": row["share"] >= BUDGET_CEILING_SHARE,
            "p99": row["p99_ms"] < BUDGET_P99_MS,
            "rss": row["worker_rss_mb"] < BUDGET_RSS_MB,
            "clean": row["non_2xx"] == 0,
        }
        row["pass"] = all(row["checks"].values())
    return {"rows": rows, "ceiling_rps": ceiling_rps, "load_before": load_before,
            "load_after": Path("/proc/loadavg").read_text().split()[:3]}


def score(run):
    """Which of several runs to report: fewer budget failures, then the higher mean share."""
    forum_rows = [r for r in run["rows"] if r["who"]]
    return (sum(r["pass"] for r in forum_rows), sum(r["share"] for r in forum_rows))


# -- the report --------------------------------------------------------------------------------

def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True,
                                 text=True).stdout.split()[1]
    import sqlite3

    import flask
    import gunicorn
    import sqlalchemy
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(int(mem) / 1024 / 1024, 1),
            "kernel": platform.release(), "python": platform.python_version(),
            "flask": flask.__version__ if hasattr(flask, "__version__") else "",
            "sqlalchemy": sqlalchemy.__version__, "gunicorn": gunicorn.__version__,
            "sqlite": sqlite3.sqlite_version, "wrk": wrk_version}


def git_revision():
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                         text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "forum", "templates",
                            "config.py", "wsgi.py", "bench"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    return rev + (" with uncommitted changes" if dirty else "")


def mark(ok):
    return "pass" if ok else "**FAIL**"


def table(run):
    lines = ["| page | reader | req/s | share of ceiling | p50 | p99 | worker RSS | budgets |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for row in run["rows"]:
        if row["who"]:
            failed = [name for name, ok in (("rps", row["checks"]["share"]),
                                            ("p99", row["checks"]["p99"]),
                                            ("memory", row["checks"]["rss"]),
                                            ("errors", row["checks"]["clean"])) if not ok]
            verdict = "pass" if not failed else "**FAIL** (" + ", ".join(failed) + ")"
            if row["who"] == "anonymous":
                verdict += " (budget set for signed in; shown for comparison)" if failed else ""
        else:
            verdict = "reference"
        lines.append(f"| {row['page']} | {row['who'] or '—'} | {row['rps']:,.0f} | "
                     f"{row['share']:.0%} | {row['p50_ms']:.1f} ms | {row['p99_ms']:.1f} ms | "
                     f"{row['worker_rss_mb']:.0f} MB | {verdict} |")
    return "\n".join(lines)


def write_report(args, info, runs, best, env_desc, output):
    m = best["machine"]
    signed = [r for r in best["rows"] if r["who"] == "signed in"]
    verdict = ("every signed-in page meets every budget" if all(r["pass"] for r in signed) else
               f"{sum(not r['pass'] for r in signed)} of {len(signed)} signed-in pages miss "
               "a budget (see the notes)")
    noise = ["| run | started | load before → after | ceiling req/s (start, end) | "
             "forum req/s and share of the ceiling per row (in table order) |",
             "|---|---|---|---:|---|"]
    for n, run in enumerate(runs, 1):
        noise.append(f"| {n}{' (reported)' if run is best else ''} | {run['started']} | "
                     f"{' '.join(run['load_before'])} → {' '.join(run['load_after'])} | "
                     f"{run['rows'][0]['rps']:,.0f}, {run['rows'][-1]['rps']:,.0f} | "
                     + ", ".join(f"{r['rps']:,.0f} ({r['share']:.0%})" for r in run["rows"]
                                 if r["who"]) + " |")
    shares = {}
    for run in runs:
        for r in run["rows"]:
            if r["who"]:
                shares.setdefault((r["page"], r["who"]), []).append(r["share"])
    spread = "; ".join(f"{page} ({who}) {min(v):.0%}–{max(v):.0%}"
                       for (page, who), v in shares.items())
    database = env_desc.split("FORUM_ENV=production, ", 1)[-1].split(" database", 1)[0]
    text = f"""## Pages under load (issue 2), {database}

Generated by `bench/run.py` (this section only; the rest of the file is left as it is).

**Command:** `{best['command']}`  
**When:** {best['started']} · **code:** {best['revision']} · **result:** {verdict}.

### Budgets

On a 2-core machine at {CONNECTIONS} connections, every measured page, signed in:
- at least {BUDGET_CEILING_SHARE:.0%} of the ceiling's requests per second (the ceiling is a bare
  Flask app rendering a 5 KB template, served the same way in the same run; the higher of its
  two measurements, at the start and at the end, is used);
- p99 latency under {BUDGET_P99_MS:.0f} ms;
- worker memory (resident set of each gunicorn worker, from /proc) under {BUDGET_RSS_MB:.0f} MB.

### Results

{table(best)}

Ceiling: {best['ceiling_rps']:,.0f} req/s. Each row: {args.warmup} s of warm-up, then
{args.duration} s measured by `{best['rows'][1]['command']}` (the signed-in rows add the session
cookie of a member who signed in through the form). Worker RSS is the largest worker's
resident set right after the row's load. No row had non-2xx answers unless it says "errors".

### Setup

- **Machine:** {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, Linux {m['kernel']}.
- **Software:** Python {m['python']}, SQLAlchemy {m['sqlalchemy']}, gunicorn {m['gunicorn']},
  SQLite {m['sqlite']}, wrk {m['wrk']}.
- **Servers:** {env_desc}
- **Data:** {info['posts']:,} posts (`bench/seed.py`); the topic has
  {info['topic_posts']:,} posts, so its last page is page {info['last_page']}.
- **Load generator:** wrk with {args.wrk_threads} threads on the same 2 cores as the servers,
  so every number here includes wrk's own CPU use, for the forum and the ceiling alike.

### Runs and noise

Other jobs may share the machine, so the suite ran {len(runs)} time(s) in a row and the run
with the fewest budget failures (then the highest mean share of the ceiling) is the one
reported above. The load average before and after each run shows how busy the machine was.
The ceiling can move between runs and within a run, so read the shares across all runs:
{spread}.

{chr(10).join(noise)}
"""
    suffix = "" if args.section == "pages" else f"-{args.section}"
    replace_section(output, START.replace("pages", "pages" + suffix),
                    END.replace("pages", "pages" + suffix), text)


def replace_section(output, start, end, text):
    """Put text between the start and end markers of the file, or append it with them."""
    block = f"{start}\n{text.strip()}\n{end}"
    old = output.read_text() if output.exists() else "# Benchmarks\n"
    if start in old and end in old:
        before, rest = old.split(start, 1)
        new = before + block + rest.split(end, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    output.write_text(new)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=3,
                        help="gunicorn workers, for the forum and the ceiling alike")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads-per-worker", type=int, default=2,
                        help="only with --worker-class gthread")
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per row")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per row")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="run the whole suite N times")
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else "
                        + DEFAULT_DATABASE_URL)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--section", default="pages",
                        help="the report's section markers: <!-- pages:start --> by default, "
                             "<!-- pages-NAME:start --> for another (e.g. one per database)")
    parser.add_argument("--min-posts", type=int, default=100_000,
                        help="refuse a smaller database (lower it only for smoke runs)")
    parser.add_argument("--min-topic-posts", type=int, default=2_000)
    args = parser.parse_args(argv)
    command = "make bench" if os.environ.get("MAKELEVEL") and not argv and len(sys.argv) == 1 \
        else shlex.join([".venv/bin/python", "bench/run.py", *sys.argv[1:]])

    RESULTS.mkdir(parents=True, exist_ok=True)
    database_url = args.database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    info = ensure_seeded(database_url, args.min_posts, args.min_topic_posts)
    env = dict(os.environ, FORUM_ENV="production", SECRET_KEY=secrets.token_urlsafe(48),
               DATABASE_URL=database_url, SEARCH_INDEX_DIR=str(SEARCH_INDEX),
               PYTHONDONTWRITEBYTECODE="1")
    env.pop("FLASK_DEBUG", None)
    forum_port, ceiling_port = free_port(), free_port()
    forum = start_gunicorn("forum", "wsgi:app", ROOT, forum_port, args, env)
    ceiling = start_gunicorn("ceiling", "ceiling:app", ROOT / "bench", ceiling_port, args, env)
    runs = []
    try:
        wait_until_serving(forum_port, "/latest", forum)
        wait_until_serving(ceiling_port, "/", ceiling)
        cookie = sign_in(forum_port)
        check_pages(forum_port, cookie, info)
        env_desc = (f"gunicorn {args.workers} {args.worker_class} workers"
                    + (f" × {args.threads_per_worker} threads" if args.worker_class == "gthread"
                       else "") + f" each for the forum (FORUM_ENV=production, "
                    f"{database_url.split('://')[0]} database) and for the ceiling app, on "
                    f"{HOST}.")
        for n in range(args.repeat):
            started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            print(f"run {n + 1} of {args.repeat} ...", flush=True)
            run = one_run(args, info, forum_port, ceiling_port, forum, ceiling, cookie)
            run.update(started=started, command=command, revision=git_revision(),
                       machine=machine(), workers=args.workers,
                       worker_class=args.worker_class)
            runs.append(run)
            for row in run["rows"]:
                print(f"  {row['page']:<38} {row['who']:<10} {row['rps']:>8.0f} req/s "
                      f"{row['share']:>5.0%}  p50 {row['p50_ms']:5.1f} ms  p99 "
                      f"{row['p99_ms']:5.1f} ms  rss {row['worker_rss_mb']:4.0f} MB"
                      f"  {'pass' if row['pass'] or not row['who'] else 'FAIL'}", flush=True)
    finally:
        stop(forum)
        stop(ceiling)
    best = max(runs, key=score)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"run-{stamp}.json").write_text(json.dumps(
        {"info": info, "runs": runs}, indent=2, default=str))
    write_report(args, info, runs, best, env_desc, Path(args.output))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
