#!/usr/bin/env python3
"""Tsudoi benchmarks: page throughput and latency against a same-size static file served by
the same server in the same run (the baseline), plus the size of the hydrate wasm.

Writes docs/BENCHMARKS.md and prints the table. Ratios, not absolute numbers, are the
result: these machines are noisy and shared (wrk and the server share the 2 cores)."""

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT = int(os.environ.get("TSUDOI_BENCH_PORT", "3200"))
BASE = f"http://127.0.0.1:{PORT}"
DURATION = os.environ.get("TSUDOI_BENCH_DURATION", "10s")
CONNECTIONS = os.environ.get("TSUDOI_BENCH_CONNECTIONS", "32")
DB = os.path.join(ROOT, "target", "bench.db")
SITE = os.path.join(ROOT, "target", "site")


def wait_healthy(timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{BASE}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.3)
    sys.exit("server did not become healthy")


def fetch(path, headers=None):
    req = urllib.request.Request(f"{BASE}{path}", headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read(), {k.lower(): v for k, v in r.headers.items()}


def to_ms(value):
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n


def wrk(path, duration=None):
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration or DURATION}", "--latency", f"{BASE}{path}"],
        check=True, capture_output=True, text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors}


NOTES_MARKER = "<!-- notes below are kept by make bench -->"
SEARCH_SIZES = [int(x) for x in os.environ.get("TSUDOI_BENCH_SEARCH_SIZES", "100000").split(",") if x]


def search_bench(n):
    """Generates a database of n events, measures the query mix, then page req/s with wrk."""
    db = os.path.join(ROOT, "target", f"bench-search-{n}.db")
    # TSUDOI_BENCH_KEEP_DB=1 measures an existing database of that size again (generating
    # 1M events takes long); by default each run starts from a new one.
    if os.environ.get("TSUDOI_BENCH_KEEP_DB") != "1":
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
    out = subprocess.run(
        [os.path.join(ROOT, "target", "release", "examples", "bench_search"), "--database", f"sqlite://{db}",
         "--events", str(n)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # TSUDOI_SEARCH_INDEX=inline: the server builds its search index before it listens, so
    # wrk measures the index (not the SQL fallback used while a background build runs).
    env = dict(os.environ, DATABASE_URL=f"sqlite://{db}", LEPTOS_SITE_ADDR=f"127.0.0.1:{PORT}",
               LEPTOS_SITE_ROOT=SITE, RUST_LOG="warn", TSUDOI_SEARCH_INDEX="inline")
    server = subprocess.Popen([os.path.join(ROOT, "target", "release", "tsudoi")], cwd=ROOT, env=env)
    try:
        wait_healthy()
        keyword = "/events?q=%E3%83%8F%E3%83%B3%E3%82%BA%E3%82%AA%E3%83%B3&pref=free"
        tags = "/events?tags=Python,AI"
        wrk(keyword)
        result["rps_keyword"] = wrk(keyword)["rps"]
        result["rps_tags"] = wrk(tags)["rps"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return result


PG_ADMIN = os.environ.get("TSUDOI_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
SCALE_EVENTS = int(os.environ.get("TSUDOI_BENCH_SCALE_EVENTS", "100000"))
# The pages of the scale table: what a visitor opens most, at demo size and at SCALE_EVENTS.
SCALE_PAGES = [
    ("/", "home `/` (upcoming list)"),
    ("/events?q=%E5%8B%89%E5%BC%B7%E4%BC%9A&pref=free", "`/events?q=勉強会&pref=free`"),
    ("/events?tags=python", "`/events?tags=python`"),
    ("/groups/riken-aip-public", "group page `/groups/riken-aip-public`"),
    ("/tags/python", "tag page `/tags/python`"),
]
API_KEYWORDS = ["Python", "勉強会", "Rust", "機械学習", "AI", "Go", "ハンズオン", "meetup", "セキュリティ", "LT"]
# A mix of searches through HTTP (`GET /api/events/search`, JSON with facets), seeded.
HTTP_SEARCHES = [
    "q=%E5%8B%89%E5%BC%B7%E4%BC%9A", "q=Rust", "q=AI&pref=free", "tags=python", "tags=python,AI&date=this-month",
    "q=%E3%83%8F%E3%83%B3%E3%82%BA%E3%82%AA%E3%83%B3&pref=online", "q=Go&sort=new", "date=next-week&pref=available",
    "q=%E6%A9%9F%E6%A2%B0%E5%AD%A6%E7%BF%92&page=3", "q=meetup&lang=en", "pref=beginner,weekend",
    "q=%E3%82%BB%E3%82%AD%E3%83%A5%E3%83%AA%E3%83%86%E3%82%A3&sort=popular", "date=past&q=LT", "tags=AWS&page=10",
]


def pg_url(name):
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def psql(sql):
    subprocess.run(["psql", PG_ADMIN, "-qAt", "-c", sql], check=True, capture_output=True, text=True)


def pg_reachable():
    return shutil.which("psql") is not None and subprocess.run(
        ["psql", PG_ADMIN, "-qAt", "-c", "SELECT 1"], capture_output=True).returncode == 0


def sequential_ms(paths):
    """Latencies of requests sent one at a time (ms), after one unmeasured pass; answers
    other than 200 are counted (and named on stderr), not fatal."""
    errors = 0

    def one(p):
        nonlocal errors
        try:
            status, _, _ = fetch(p)
        except urllib.error.HTTPError as e:
            status = e.code
        if status != 200:
            errors += 1
            print(f"bench: {p} answered {status}", file=sys.stderr)

    for p in paths[: len(paths) // 10 + 1]:
        one(p)
    errors = 0
    out = []
    for p in paths:
        t = time.perf_counter()
        before = errors
        one(p)
        if errors == before:  # refusals are counted, not timed
            out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return {"p50": out[len(out) // 2], "p95": out[int(len(out) * 0.95) - 1], "errors": errors}


def measure_server(url, demo):
    """Starts the release server on `url` and measures SCALE_PAGES under load, then the API's
    keyword filter and the search mix one request at a time."""
    # One client sends every request here: the API's per-client limit would refuse most.
    env = dict(os.environ, DATABASE_URL=url, LEPTOS_SITE_ADDR=f"127.0.0.1:{PORT}", LEPTOS_SITE_ROOT=SITE,
               RUST_LOG="warn", TSUDOI_SEARCH_INDEX="inline", TSUDOI_RATE_API_PER_IP="1000000")
    if demo:
        env["TSUDOI_DEMO"] = "1"
    server = subprocess.Popen([os.path.join(ROOT, "target", "release", "tsudoi")], cwd=ROOT, env=env)
    try:
        wait_healthy(600)
        pages = {}
        for path, _ in SCALE_PAGES:
            status, _, _ = fetch(path)
            assert status == 200, (url, path, status)
            wrk(path, "3s")  # warm-up
            pages[path] = wrk(path)
        api = sequential_ms([f"/api/v2/events/?keyword={urllib.parse.quote(k)}&count=10" for k in API_KEYWORDS] * 20)
        search = sequential_ms([f"/api/events/search?{q}" for q in HTTP_SEARCHES] * 20)
        return {"pages": pages, "api": api, "search": search}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def scale_bench(backend):
    """Demo data against SCALE_EVENTS generated events on one backend: the in-process search
    mix (examples/bench_search), then pages, the API keyword filter and the search mix over HTTP."""
    if backend == "sqlite":
        small_db = os.path.join(ROOT, "target", "bench-scale-demo.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(small_db + suffix):
                os.remove(small_db + suffix)
        # The database the search table above generated (bench_search reuses a non-empty one).
        small, large = f"sqlite://{small_db}", f"sqlite://{os.path.join(ROOT, 'target', f'bench-search-{SCALE_EVENTS}.db')}"
    else:
        small, large = pg_url("tsudoi_bench_demo"), pg_url(f"tsudoi_bench_{SCALE_EVENTS}")
        psql('DROP DATABASE IF EXISTS "tsudoi_bench_demo" WITH (FORCE)')
        psql('CREATE DATABASE "tsudoi_bench_demo"')
    try:
        # Every 20th query also by SQL alone: the baseline, costly on PostgreSQL at this size.
        out = subprocess.run(
            [os.path.join(ROOT, "target", "release", "examples", "bench_search"), "--database", large,
             "--events", str(SCALE_EVENTS), "--sql-every", "20", "--keep"],
            check=True, capture_output=True, text=True, cwd=ROOT,
        )
        mix = json.loads(out.stdout.strip().splitlines()[-1])
        return {"mix": mix, "small": measure_server(small, True), "large": measure_server(large, False)}
    finally:
        if backend == "postgres":
            psql('DROP DATABASE IF EXISTS "tsudoi_bench_demo" WITH (FORCE)')
            if os.environ.get("TSUDOI_BENCH_KEEP_DB") != "1":
                psql(f'DROP DATABASE IF EXISTS "tsudoi_bench_{SCALE_EVENTS}" WITH (FORCE)')


def scale_lines(scales):
    n = f"{SCALE_EVENTS // 1000}k"
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    lines = [
        f"## At {SCALE_EVENTS:,} events, on both backends",
        "",
        f"Each backend twice in the same run: with the demo data (320 events) and with {SCALE_EVENTS:,}",
        "generated events on top (`examples/bench_search` generates them and runs the in-process",
        "search mix). Pages: wrk as above, the server building its search index before it listens.",
        "API and search over HTTP: one request at a time (200 and 280 requests), p95 in ms.",
        "",
        "| request | " + " | ".join(f"{names[b]} demo | {names[b]} {n} | {n} / demo" for b in scales) +
        (f" | PostgreSQL / SQLite at {n} |" if len(scales) == 2 else " |"),
        "|---|" + "---:|---:|---:|" * len(scales) + ("---:|" if len(scales) == 2 else ""),
    ]
    for path, label in SCALE_PAGES:
        cells = []
        for b, r in scales.items():
            sm, lg = r["small"]["pages"][path]["rps"], r["large"]["pages"][path]["rps"]
            bad = r["small"]["pages"][path]["errors"] + r["large"]["pages"][path]["errors"]
            note = f" ({bad} non-2xx)" if bad else ""
            cells.append(f"{sm:.0f} req/s | {lg:.0f} req/s{note} | {100 * lg / max(sm, 1e-9):.0f} %")
        row = f"| {label} | " + " | ".join(cells)
        if len(scales) == 2:
            lite, pg = scales["sqlite"]["large"]["pages"][path]["rps"], scales["postgres"]["large"]["pages"][path]["rps"]
            row += f" | {pg / max(lite, 1e-9):.2f}× the req/s"
        lines.append(row + " |")
    for key, label in (("api", "`/api/v2/events/?keyword=…&count=10` p95"), ("search", "search mix over HTTP p95")):
        cells = []
        for b, r in scales.items():
            sm, lg = r["small"][key]["p95"], r["large"][key]["p95"]
            bad = r["small"][key]["errors"] + r["large"][key]["errors"]
            note = f" ({bad} not 200)" if bad else ""
            cells.append(f"{sm:.1f} ms | {lg:.1f} ms{note} | {lg / max(sm, 1e-9):.1f}×")
        row = f"| {label} | " + " | ".join(cells)
        if len(scales) == 2:
            lite, pg = scales["sqlite"]["large"][key]["p95"], scales["postgres"]["large"][key]["p95"]
            row += f" | {pg / max(lite, 1e-9):.2f}× the time"
        lines.append(row + " |")
    cells = []
    for b, r in scales.items():
        cells.append(f"– | {r['mix']['p95_ms']:.1f} ms (SQL alone {r['mix']['sql_subset_p95_ms']:.0f}) | –")
    row = "| search mix in-process p95 (1,000 queries, facets) | " + " | ".join(cells)
    if len(scales) == 2:
        row += f" | {scales['postgres']['mix']['p95_ms'] / max(scales['sqlite']['mix']['p95_ms'], 1e-9):.2f}× the time"
    lines += [row + " |", ""]
    lines += [
        f"Goals: pages at {n} ≥ 50 % of their demo req/s on the same backend; search p95 ≤ 10 ms (SQLite)",
        "and ≤ 15 ms (PostgreSQL) in-process and over HTTP; the API keyword filter p95 ≤ 15 ms; PostgreSQL",
        "within 2× of SQLite.",
        "",
    ]
    return lines


def registration_run(binary, sync):
    """The registration rush and throughput against a fresh server with TSUDOI_SQLITE_SYNC=`sync`
    (few live streams: the durability runs measure writes)."""
    db = DB + f".{sync}"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    env = dict(os.environ, DATABASE_URL=f"sqlite://{db}", TSUDOI_DEMO="1", TSUDOI_SQLITE_SYNC=sync,
               LEPTOS_SITE_ADDR=f"127.0.0.1:{PORT}", LEPTOS_SITE_ROOT=SITE, RUST_LOG="warn")
    server = subprocess.Popen([binary], cwd=ROOT, env=env)
    try:
        wait_healthy()
        load = subprocess.run(
            [os.path.join(ROOT, "target", "release", "examples", "bench"), "--base", BASE,
             "--database", f"sqlite://{db}", "--server-pid", str(server.pid),
             "--sse-latency", "10", "--sse-held", "100"],
            check=True, capture_output=True, text=True, cwd=ROOT,
        )
        return json.loads(load.stdout.strip().splitlines()[-1])
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)


def drain_run(binary, streams=200):
    """SIGTERM while `streams` live-seat streams are open and registrations are being sent:
    the time from the signal to the process's exit, and how the streams ended."""
    import socket
    import threading
    db = DB + ".drain"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    env = dict(os.environ, DATABASE_URL=f"sqlite://{db}", TSUDOI_DEMO="1", LEPTOS_SITE_ADDR=f"127.0.0.1:{PORT}",
               LEPTOS_SITE_ROOT=SITE, RUST_LOG="warn", TSUDOI_LIVE_STREAMS_PER_CLIENT=str(streams + 10))
    server = subprocess.Popen([binary], cwd=ROOT, env=env)
    try:
        wait_healthy()
        _, home, _ = fetch("/")
        event_id = re.search(rb'href="/events/(\d+)"', home).group(1).decode()
        socks = []
        for _ in range(streams):
            s_ = socket.create_connection(("127.0.0.1", PORT), timeout=60)
            s_.sendall(f"GET /live/events/{event_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            assert b"event: seats" in s_.recv(65536)
            socks.append(s_)
        ended = {"restart": 0, "eof": 0, "reset": 0}
        lock = threading.Lock()

        def drain(sock):
            seen = b""
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    seen += chunk
                kind = "restart" if b"event: restart" in seen else "eof"
            except OSError:
                kind = "reset"
            with lock:
                ended[kind] += 1

        threads = [threading.Thread(target=drain, args=(s_,)) for s_ in socks]
        for t in threads:
            t.start()
        # A stream of requests in flight while the signal arrives.
        load = subprocess.Popen(["wrk", "-t1", "-c16", "-d3s", f"{BASE}/events/{event_id}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        t0 = time.perf_counter()
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
        exit_ms = (time.perf_counter() - t0) * 1000
        for t in threads:
            t.join(timeout=10)
        load.wait(timeout=30)
        return {"streams": streams, "exit_ms": exit_ms, "exit_code": code, **ended}
    finally:
        if server.poll() is None:
            server.kill()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)


def backup_run(binary):
    """`tsudoi backup` of the 100k-event SQLite database the scale run left: time and sizes."""
    source = os.path.join(ROOT, "target", f"bench-search-{SCALE_EVENTS}.db")
    if not os.path.exists(source):
        return None
    target = os.path.join(ROOT, "target", "bench-backup.db")
    if os.path.exists(target):
        os.remove(target)
    env = dict(os.environ, DATABASE_URL=f"sqlite://{source}", RUST_LOG="warn")
    t0 = time.perf_counter()
    subprocess.run([binary, "backup", target], check=True, env=env, cwd=ROOT, capture_output=True)
    secs = time.perf_counter() - t0
    size = os.path.getsize(target)
    source_size = sum(os.path.getsize(source + x) for x in ("", "-wal") if os.path.exists(source + x))
    os.remove(target)
    return {"secs": secs, "bytes": size, "source_bytes": source_size}


HOSTILE_START = "<!-- hostile:start -->"
HOSTILE_END = "<!-- hostile:end -->"


def hostile_run(binary):
    """`/healthz` latency while each class of hostile input (tests/it/hostile.rs) is sent in a
    loop by two threads, against the same probe on the idle server: the ratio says whether
    one client's bad input slows everybody else."""
    import http.cookiejar
    import multiprocessing

    db = os.path.join(ROOT, "target", "bench-hostile.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    env = dict(os.environ, DATABASE_URL=f"sqlite://{db}", TSUDOI_DEMO="1", LEPTOS_SITE_ADDR=f"127.0.0.1:{PORT}",
               LEPTOS_SITE_ROOT=SITE, RUST_LOG="error", TSUDOI_FORM_MIN_SECONDS="0", TSUDOI_NEW_ACCOUNT_DAYS="0",
               TSUDOI_RATE_SIGNUP_PER_IP="100000", TSUDOI_RATE_API_PER_IP="100000")
    server = subprocess.Popen([binary], cwd=ROOT, env=env)
    try:
        wait_healthy()
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        accept = {"accept": "application/json"}

        def call(method, path, data=None, raw=None):
            body = raw if raw is not None else (urllib.parse.urlencode(data).encode() if data is not None else None)
            req = urllib.request.Request(f"{BASE}{path}", data=body, method=method, headers=accept)
            if body is not None:
                req.add_header("content-type", "application/x-www-form-urlencoded")
            try:
                with opener.open(req, timeout=60) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()
            except OSError:
                # The server answered and closed before the whole body was sent (413).
                return "closed", b""

        _, ticket = call("GET", "/api/auth/form-ticket")
        status, _ = call("POST", "/api/auth/signup", {"nickname": "stranger", "email": "stranger@example.com",
                                                       "password": "stranger-pass-1", "form_ticket": json.loads(ticket)})
        assert status == 200, status
        status, group = call("POST", "/api/admin/groups/create", {"slug": "stranger", "title": "Stranger"})
        assert status == 200, (status, group)
        group_id = json.loads(group)["id"]
        # Just under the 2 MiB body limit, so it reaches the form's validation (422 on `tags`).
        event_form = {"group_id": group_id, "capacity": "10", "title": "Hostile", "starts_local": "2030-01-01T19:00",
                      "ends_local": "2030-01-01T21:00", "time_zone": "Asia/Tokyo", "venue_kind": "online",
                      "language": "ja"}
        names = ",".join(f"t{i}" for i in range(300_000))[: 2 * 2**20 - 4096]
        event_body = (urllib.parse.urlencode(event_form) + "&tags=" + names).encode()
        garbage = urllib.parse.quote("\x00\uffff" * 2000 + "𠮷" * 500)
        classes = [
            ("control: a normal search, same loop", lambda: call("GET", "/events?q=" + urllib.parse.quote("勉強会"))),
            ("2 MB tag list on an event (signed in)", lambda: call("POST", "/api/admin/events/create", raw=event_body)),
            ("search dates at chrono's limits", lambda: call("GET", "/events?from=%2B200000-01-01&to=%2B262142-12-31")),
            ("5,000 tags in a search", lambda: call("GET", "/events?tags=" + ",".join(f"x{i}" for i in range(5000)))),
            ("400 API keywords", lambda: call("GET", "/api/v2/events/?keyword=" + ",".join(f"k{i}" for i in range(400)))),
            ("20,000 repeated live-seat ids", lambda: call("GET", "/live/events?ids=" + "7," * 20_000)),
            ("3 MiB form body", lambda: call("POST", "/api/auth/login", raw=b"login=" + b"a" * (3 * 2**20))),
            ("wrong passwords (one account)", lambda: call("POST", "/api/auth/login", {"login": "organizer", "password": "nope"})),
            ("NULs and odd Unicode in a search", lambda: call("GET", f"/events?q={garbage}")),
        ]

        def probe(n=300):
            times = []
            for _ in range(n):
                t = time.perf_counter()
                with urllib.request.urlopen(f"{BASE}/healthz", timeout=10) as r:
                    r.read()
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            return times[len(times) // 2], times[int(len(times) * 0.95)]

        probe(100)  # warm-up
        idle = probe()
        rows = []
        # The attackers run in their own processes: the probe must not wait on their interpreter.
        mp = multiprocessing.get_context("fork")
        for label, attack in classes:
            stop = mp.Event()
            results = mp.Queue()

            def loop(attack=attack, stop=stop, results=results):
                statuses = {}
                while not stop.is_set():
                    st, _ = attack()
                    statuses[st] = statuses.get(st, 0) + 1
                results.put(statuses)

            workers = [mp.Process(target=loop) for _ in range(2)]
            started = time.perf_counter()
            for w in workers:
                w.start()
            time.sleep(0.5)
            during = probe()
            stop.set()
            statuses = {}
            for _ in workers:
                for k, v in results.get(timeout=120).items():
                    statuses[k] = statuses.get(k, 0) + v
            for w in workers:
                w.join()
            secs = time.perf_counter() - started
            rows.append((label, sum(statuses.values()) / secs, statuses, during))
        return {"idle": idle, "rows": rows}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def hostile_lines(h):
    p50, p95 = h["idle"]
    lines = [
        HOSTILE_START,
        "## Hostile input: `/healthz` while an attack runs",
        "",
        "Each class of `tests/it/hostile.rs`, sent in a loop by two client processes, while a third",
        "measures 300 sequential `GET /healthz`; the baseline is the same probe on the idle server in",
        f"the same run (idle p50 {p50:.2f} ms, p95 {p95:.2f} ms). The first row is the control: the same",
        "loop with a normal search, i.e. what any two busy clients cost on 2 shared cores. A hostile",
        "class that stays near the control costs the server no more than ordinary traffic.",
        "",
        "| class | attack req/s | answers | healthz p50 ms | healthz p95 ms | p50 / idle | p95 / idle |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for label, rps, statuses, (d50, d95) in h["rows"]:
        answers = ", ".join(f"{k}×{v}" for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0])))
        lines.append(f"| {label} | {rps:.0f} | {answers} | {d50:.2f} | {d95:.2f} | {d50 / p50:.1f}× | {d95 / p95:.1f}× |")
    lines += ["", HOSTILE_END]
    return lines


def splice_hostile(lines):
    """Replaces the hostile section of docs/BENCHMARKS.md (`TSUDOI_BENCH_ONLY=hostile`)."""
    path = os.path.join(ROOT, "docs", "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    block = "\n".join(lines)
    if HOSTILE_START in text and HOSTILE_END in text:
        text = text[: text.index(HOSTILE_START)] + block + text[text.index(HOSTILE_END) + len(HOSTILE_END):]
    elif NOTES_MARKER in text:
        text = text.replace(NOTES_MARKER, block + "\n\n" + NOTES_MARKER)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)
    print(block)


def main():
    binary = os.path.join(ROOT, "target", "release", "tsudoi")
    if not os.path.exists(binary):
        sys.exit("target/release/tsudoi missing: run `make bench` (it builds first)")
    if os.environ.get("TSUDOI_BENCH_ONLY") == "hostile":
        splice_hostile(hostile_lines(hostile_run(binary)))
        return
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(DB + suffix):
            os.remove(DB + suffix)
    # The live-stream part holds 10,000 streams from this one address: lift the per-client cap.
    env = dict(os.environ, DATABASE_URL=f"sqlite://{DB}", TSUDOI_DEMO="1",
               TSUDOI_LIVE_STREAMS_PER_CLIENT="20000", TSUDOI_LIVE_STREAMS_TOTAL="20000",
               LEPTOS_SITE_ADDR=f"127.0.0.1:{PORT}", LEPTOS_SITE_ROOT=SITE, RUST_LOG="warn")
    server = subprocess.Popen([binary], cwd=ROOT, env=env)
    static_files = []
    try:
        wait_healthy()
        _, home, _ = fetch("/")
        event_id = re.search(rb'href="/events/(\d+)"', home).group(1).decode()
        pages = [("/", "upcoming list `/`"), (f"/events/{event_id}", f"event page `/events/{event_id}`")]
        rows = []
        for path, label in pages:
            status, body, _ = fetch(path)
            assert status == 200, (path, status)
            # The baseline: a static file with exactly as many bytes, from the same server.
            name = f"bench-static-{len(body)}.html"
            static_path = os.path.join(SITE, name)
            with open(static_path, "wb") as f:
                f.write(body)
            static_files.append(static_path)
            wrk(path)  # warm-up (caches, connection pool)
            page = wrk(path)
            static = wrk(f"/{name}")
            rows.append((label, len(body), page, static))

        wasm_path = os.path.join(SITE, "pkg", "tsudoi.wasm")
        wasm_raw = os.path.getsize(wasm_path)
        _, wasm_br, headers = fetch("/pkg/tsudoi.wasm", {"Accept-Encoding": "br"})
        br_len = len(wasm_br) if headers.get("content-encoding") == "br" else None
        js_raw = os.path.getsize(os.path.join(SITE, "pkg", "tsudoi.js"))
        _, js_br, js_headers = fetch("/pkg/tsudoi.js", {"Accept-Encoding": "br"})
        js_br_len = len(js_br) if js_headers.get("content-encoding") == "br" else None

        # Registration burst, throughput and live streams (examples/bench.rs).
        load = subprocess.run(
            [os.path.join(ROOT, "target", "release", "examples", "bench"), "--base", BASE,
             "--database", f"sqlite://{DB}", "--server-pid", str(server.pid)],
            check=True, capture_output=True, text=True, cwd=ROOT,
        )
        reg = json.loads(load.stdout.strip().splitlines()[-1])
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        for p in static_files:
            os.remove(p)

    # Durability: the same registration load with each TSUDOI_SQLITE_SYNC, interleaved.
    durability = [(sync, registration_run(binary, sync)) for sync in ("normal", "full", "normal", "full")]

    drain = drain_run(binary)

    searches = [search_bench(n) for n in SEARCH_SIZES]
    backends = ["sqlite"] + (["postgres"] if pg_reachable() else [])
    scales = {}
    if os.environ.get("TSUDOI_BENCH_SCALE", "1") != "0":
        for b in backends:
            try:
                scales[b] = scale_bench(b)
            except Exception as e:  # the rest of the report is still written
                print(f"bench: the {b} scale run failed: {e!r}", file=sys.stderr)

    backup = backup_run(binary)
    hostile = hostile_run(binary)

    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        f"Measured {now} by `make bench` on this machine ({cpu} cores, shared by wrk and the server),",
        f"release build, SQLite with the demo data, wrk `-t2 -c{CONNECTIONS} -d{DURATION}` after a warm-up run.",
        "Each page is compared with a static file of exactly the same size served by the same",
        "server in the same run: the ratio is the result, absolute numbers move with the machine.",
        "",
        "## Pages vs. a same-size static file",
        "",
        "| target | bytes | req/s | p50 ms | p99 ms | static req/s | static p50 ms | static p99 ms | page/static req/s | non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, size, page, static in rows:
        lines.append(
            f"| {label} | {size} | {page['rps']:.0f} | {page['p50']:.2f} | {page['p99']:.2f} | "
            f"{static['rps']:.0f} | {static['p50']:.2f} | {static['p99']:.2f} | "
            f"{page['rps'] / static['rps']:.2f} | {page['errors'] + static['errors']} |"
        )
    lines += [
        "",
        "## Browser bundle (release: wasm-opt -Oz)",
        "",
        "| file | raw bytes | brotli bytes (as served) |",
        "|---|---:|---:|",
        f"| `pkg/tsudoi.wasm` | {wasm_raw} | {br_len if br_len is not None else 'not compressed'} |",
        f"| `pkg/tsudoi.js` | {js_raw} | {js_br_len if js_br_len is not None else 'not compressed'} |",
        "",
    ]
    rush, big, lat, held = reg["rush"], reg["throughput"], reg["sse_latency"], reg["sse_held"]
    lines += [
        "## Registration (SQLite, one instance)",
        "",
        "Each client holds a signed-in session and sends one `POST /api/registrations/register`,",
        "64 in flight. Baseline: `GET /healthz` (one database round trip) at the same concurrency.",
        "",
        "| run | clients | seats | registrations/s | p50 ms | p99 ms | confirmed | waitlisted | oversold | errors | counters = rows |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| rush | {rush['clients']} | {rush['seats']} | {rush['per_sec']:.0f} | {rush['p50_ms']:.1f} | {rush['p99_ms']:.1f} | "
        f"{rush['accepted']} | {rush['waiting']} | {rush['oversold']} | {rush['errors']} | {rush['counters_match_rows']} |",
        f"| throughput | {big['clients']} | {big['seats']} | {big['per_sec']:.0f} | {big['p50_ms']:.1f} | {big['p99_ms']:.1f} | "
        f"{big['accepted']} | 0 | 0 | {big['errors']} | |",
        "",
        f"Baseline `GET /healthz`: {rush['healthz_per_sec']:.0f} req/s, so a registration costs "
        f"{rush['healthz_per_sec'] / max(big['per_sec'], 1):.1f}× a health check. Goal: ≥ 3,000 registrations/s, 0 oversold.",
        "",
        "## Live seat streams",
        "",
        "| measure | value | goal |",
        "|---|---:|---|",
        f"| commit → delivery p50 / p95 / p99 at {lat['subscribers']} subscribers ({lat['changes']} changes) | "
        f"{lat['p50_ms']:.1f} / {lat['p95_ms']:.1f} / {lat['p99_ms']:.1f} ms | p95 ≤ 250 ms |",
        f"| snapshots missed | {lat['missed']} | 0 |",
        f"| subscribers held by one instance | {held['held']} of {held['target']} | 10,000 |",
        f"| server RSS before / while holding them | {held['rss_mib_before']:.0f} / {held['rss_mib_held']:.0f} MiB | ≤ 1 GiB |",
        "",
    ]
    lines += [
        "## Durability (`TSUDOI_SQLITE_SYNC`)",
        "",
        "The registration load above (fewer live streams) against a fresh server per run, the two",
        "settings interleaved in this run. `normal` (WAL, the default) loses no committed write when the",
        "process dies, only possibly the last ones on a power loss; `full` syncs every commit.",
        "",
        "| run | setting | rush reg/s | throughput reg/s | oversold | errors | counters = rows |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for i, (sync, r) in enumerate(durability, 1):
        lines.append(
            f"| {i} | `{sync}` | {r['rush']['per_sec']:.0f} | {r['throughput']['per_sec']:.0f} | "
            f"{r['rush']['oversold']} | {r['rush']['errors'] + r['throughput']['errors']} | {r['rush']['counters_match_rows']} |"
        )
    mean = lambda s: sum(r["throughput"]["per_sec"] for k, r in durability if k == s) / 2
    lines += [
        "",
        f"`full` gives {mean('full') / max(mean('normal'), 1e-9):.2f}× the throughput of `normal` in this run.",
        "",
    ]
    lines += [
        "## Stopping and backing up",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| SIGTERM → exit with {drain['streams']} open seat streams and 16 page requests in flight | "
        f"{drain['exit_ms']:.0f} ms (exit code {drain['exit_code']}) |",
        f"| streams ended with `restart` / plain end / reset | {drain['restart']} / {drain['eof']} / {drain['reset']} |",
    ]
    if backup:
        lines.append(
            f"| `tsudoi backup` of the {SCALE_EVENTS:,}-event SQLite database ({backup['source_bytes'] / 2**20:.0f} MiB) | "
            f"{backup['secs']:.1f} s, {backup['bytes'] / 2**20:.0f} MiB |"
        )
    lines += [
        "",
        "The kill -9 runs are tests, not timings: `tests/it/lifecycle.rs` prints what each run answered",
        "and found (`cargo nextest run --features ssr -E 'test(/kill_9/)' --no-capture`); lost is 0 or",
        "the test fails.",
        "",
    ]
    lines += [
        "## Search (`/events`), facets included",
        "",
        "`tsudoi demo --events N` on top of the demo set, then a fixed, seeded mix of 1,000 queries",
        "(ja/en keywords of 1–10 characters, 1–3 tags, tools, date presets, preferences, sorts, pages up",
        "to 50) through the store's search (the in-memory index), one at a time, server-side (no HTTP).",
        "Baselines from the same run: a `SELECT 1` round trip through the same pool, and the same",
        "store answering every fifth query of the mix by SQL alone (the index bypassed). Page req/s:",
        "wrk on two search URLs against a server on that database.",
        "",
        "| events | generate s | p50 ms | p95 ms | p99 ms | max ms | p95 with 1–2 char terms | p95 with 3+ char terms | ping p50 ms | `/events?q=ハンズオン&pref=free` req/s | `/events?tags=Python,AI` req/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s_ in searches:
        gen = f"{s_['generated_secs']:.0f}" if s_.get("generated_secs") else "–"
        lines.append(
            f"| {s_['events']:,} | {gen} | {s_['p50_ms']:.1f} | {s_['p95_ms']:.1f} | {s_['p99_ms']:.1f} | {s_['max_ms']:.1f} | "
            f"{s_['short_terms_p95_ms']:.1f} | {s_['long_terms_p95_ms']:.1f} | {s_['ping_p50_ms']:.3f} | "
            f"{s_['rps_keyword']:.0f} | {s_['rps_tags']:.0f} |"
        )
    if any(not s_.get("generated_secs") for s_ in searches):
        lines += ["", "–: a database kept from an earlier run (`TSUDOI_BENCH_KEEP_DB=1`), not generated in this one."]
    lines += [
        "",
        "Index against SQL alone on the same 200 queries (every fifth of the mix), and what the index costs:",
        "",
        "| events | SQL p50 ms | SQL p95 ms | index p50 ms | index p95 ms | p95 SQL / index | index build s | index RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s_ in searches:
        lines.append(
            f"| {s_['events']:,} | {s_['sql_subset_p50_ms']:.1f} | {s_['sql_subset_p95_ms']:.1f} | "
            f"{s_['index_subset_p50_ms']:.2f} | {s_['index_subset_p95_ms']:.2f} | "
            f"{s_['sql_subset_p95_ms'] / max(s_['index_subset_p95_ms'], 1e-9):.0f}× | {s_['index_secs']:.1f} | {s_['index_rss_mib']:.0f} |"
        )
    lines += [
        "",
        "The index keeps the FTS5 answers of the 256 most recently searched 3+ character terms (kept",
        "exact as events change). The mix repeats its keywords, so most of its 3+ character terms are",
        "answered from that cache; the same queries with the cache emptied before each one show what",
        "a term nobody searched recently costs:",
        "",
        "| events | queries with 3+ char terms | cache hit rate in the mix | p95 as measured above ms | uncached p50 ms | uncached p95 ms |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for s_ in searches:
        lines.append(
            f"| {s_['events']:,} | {s_['long_queries']} | {100 * s_['term_cache_hit_rate']:.0f} % | "
            f"{s_['long_cached_p95_ms']:.1f} | {s_['long_uncached_p50_ms']:.1f} | {s_['long_uncached_p95_ms']:.1f} |"
        )
    lines += [
        "",
        "Goal: p95 ≤ 10 ms at 100k events and ≤ 50 ms at 1M. Set `TSUDOI_BENCH_SEARCH_SIZES=100000,1000000`",
        "to add the 1M run (it generates a multi-gigabyte database and takes a long time on 2 cores).",
        "",
    ]
    if scales:
        lines += scale_lines(scales)
    lines += [""] + hostile_lines(hostile) + [""]
    text = "\n".join(lines)
    os.makedirs(os.path.join(ROOT, "docs"), exist_ok=True)
    path = os.path.join(ROOT, "docs", "BENCHMARKS.md")
    # Hand-written notes (A/B runs, analyses) below the marker survive a new run.
    notes = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        if NOTES_MARKER in old:
            notes = old[old.index(NOTES_MARKER):]
    with open(path, "w") as f:
        f.write(text + ("\n" + notes if notes else ""))
    print(text)


if __name__ == "__main__":
    main()
