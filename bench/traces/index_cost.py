#!/usr/bin/env python3
"""What run_traces_by_flow (migration v18) costs a commit and buys the traces page.

Two SQLite files side by side (WAL, synchronous=NORMAL, as the server opens them), with
v1's run_traces and v14's per-user index; the second also has the per-flow index. Both are
seeded with EVENTS runs of FLOWS trace rows each (plus one row of a rare flow every 20,000
runs), then 20,000 commits of one run each go to both in turn, so the machine's load hits
both alike. Prints the commit's p50/p99 in each, and the time of the page's worst query:
the newest 201 rows of the rare flow, and of rows without a flow.

    python3 bench/traces/index_cost.py EVENTS FLOWS     # e.g. 300000 1
"""
import os
import random
import sqlite3
import sys
import tempfile
import time

EVENTS, FLOWS = int(sys.argv[1]), int(sys.argv[2])
NAMES = ["Greeting", "Forward", "Auto reply", "Staff reply", "After hours"]
INSERT = "INSERT INTO run_traces (at, event_kind, trigger, user_id, note, flow, result, reason, variant, actions) VALUES (?,?,?,?,?,?,?,?,?,?)"
directory = tempfile.mkdtemp(prefix="replyflow-trace-index-")


def open_database(name, per_flow_index):
    db = sqlite3.connect(os.path.join(directory, name), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("""CREATE TABLE run_traces (id INTEGER PRIMARY KEY, at REAL NOT NULL, event_kind TEXT NOT NULL, trigger TEXT,
        user_id TEXT, note TEXT, flow TEXT, result TEXT, reason TEXT, variant TEXT, actions TEXT)""")
    db.execute("CREATE INDEX run_traces_by_user ON run_traces (user_id, id)")
    if per_flow_index:
        db.execute("CREATE INDEX run_traces_by_flow ON run_traces (flow, id)")
    return db


def run(index, rng):
    user, at = str(rng.randrange(200_000)), 1.7e9 + index * 0.6
    rows = [(at, "app_message", "app_message", user, None, name, rng.choice(["ran", "skipped"]), "text_contains: 'hi' is not in 'hello there'",
             None, "reply: Hello!") for name in NAMES[:FLOWS]]
    if index % 20_000 == 0:
        rows.append((at, "app_message", "app_message", user, None, "Rare flow", "ran", None, None, None))
    return rows


databases = {"without": open_database("without.sqlite", False), "with": open_database("with.sqlite", True)}
for db in databases.values():
    rng = random.Random(1)
    db.execute("BEGIN")
    for index in range(EVENTS):
        db.executemany(INSERT, run(index, rng))
    db.execute("COMMIT")

samples = {name: [] for name in databases}
rng = random.Random(2)
for index in range(EVENTS, EVENTS + 20_000):
    rows = run(index, rng)
    order = ["without", "with"] if index % 2 else ["with", "without"]
    for name in order:
        db = databases[name]
        start = time.perf_counter()
        db.execute("BEGIN")
        db.executemany(INSERT, rows)
        db.execute("COMMIT")
        samples[name].append(time.perf_counter() - start)

for name, db in databases.items():
    times = sorted(samples[name])
    line = f"{name:>7} the per-flow index: commit p50 {times[len(times) // 2] * 1e6:.1f} µs, p99 {times[int(len(times) * 0.99)] * 1e6:.1f} µs"
    for label, sql in [("rare flow", "flow = 'Rare flow'"), ("no flow", "flow IS NULL")]:
        start = time.perf_counter()
        db.execute(f"SELECT * FROM run_traces WHERE {sql} ORDER BY id DESC LIMIT 201").fetchall()
        line += f"; {label} {(time.perf_counter() - start) * 1e3:.1f} ms"
    print(line)
for name in ("without.sqlite", "with.sqlite"):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(os.path.join(directory, name + suffix))
        except FileNotFoundError:
            pass
os.rmdir(directory)
