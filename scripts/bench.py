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


def wrk(path):
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", f"{BASE}{path}"],
        check=True, capture_output=True, text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors}


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


def main():
    binary = os.path.join(ROOT, "target", "release", "tsudoi")
    if not os.path.exists(binary):
        sys.exit("target/release/tsudoi missing: run `make bench` (it builds first)")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(DB + suffix):
            os.remove(DB + suffix)
    env = dict(os.environ, DATABASE_URL=f"sqlite://{DB}", TSUDOI_DEMO="1",
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

    searches = [search_bench(n) for n in SEARCH_SIZES]

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
    text = "\n".join(lines)
    os.makedirs(os.path.join(ROOT, "docs"), exist_ok=True)
    with open(os.path.join(ROOT, "docs", "BENCHMARKS.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
