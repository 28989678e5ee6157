#!/usr/bin/env bash
# `replyflow serve` on one SQLite instance, one PostgreSQL instance and three PostgreSQL
# instances on one database, side by side in one run (release builds, fake Telegram/FCM
# on loopback, a private PostgreSQL cluster in a temporary folder):
#   - POST /send_message (JSON, the default flows: stored, forwarded by the outbox)
#   - GET /message_history (limit 50) over 200 users with 60 messages each
# The same total client connections in every case; with three instances the connections
# are split evenly over them (one wrk per instance, started together: requests/s summed,
# p99 the worst of the three). On PostgreSQL it also prints the statements each request
# cost (pg_stat_statements' calls over the requests made): the round trips per event.
# Needs wrk and Debian's postgresql (apt-get install wrk postgresql).
# Usage: bench/scaling/run.sh [SECONDS] [CONNECTIONS]   (defaults 15 and 63)
# SECTIONS="send" (or "history") measures one of the two. BIN=/folder measures the
# replyflow and replyflow-fakes in that folder instead of building (keep a copy of the
# build before a change there, and run both side by side).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-15}
connections=${2:-63}
scratch=${SCRATCH:-/tmp/relbuild}
work=$(mktemp -d /tmp/replyflow-scaling-XXXXXX)
chmod 755 "$work"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$pgbin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)"; exit 1; }
# PostgreSQL refuses to run as root.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
pgport=$((20000 + RANDOM % 10000))
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    as_pg "$pgbin/pg_ctl" -D "$work/pg/data" stop -m immediate >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${BIN:-}" ]; then
    bin=$BIN
else
    swift build -c release --scratch-path "$scratch" --product replyflow >/dev/null
    swift build -c release --scratch-path "$scratch" --product replyflow-fakes >/dev/null
    bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)
fi

"$bin/replyflow-fakes" "$work/fakes.env" > "$work/fakes.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/fakes.env" ] && break; sleep 0.1; done

# PostgreSQL with its defaults for durability (fsync and synchronous_commit on), as SQLite
# keeps its own (WAL, synchronous NORMAL); pg_stat_statements counts the statements.
mkdir -p "$work/pg"
[ "$(id -u)" = 0 ] && chown nobody "$work/pg"
as_pg "$pgbin/initdb" -D "$work/pg/data" -U replyflow -A trust -E UTF8 >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w -t 30 \
    -o "-p $pgport -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_preload_libraries=pg_stat_statements" start >/dev/null
psql() { "$pgbin/psql" -X -q -t -A -h 127.0.0.1 -p "$pgport" -U replyflow "$@"; }

# serve NAME PORT [DATABASE_URL]: a server on its own folder (SQLite) or on the URL.
serve() {
    local name=$1 port=$2 url=${3:-}
    mkdir -p "$work/$name"
    (cd "$work/$name" && set -a && . "$work/fakes.env" && set +a &&
        SERVER_HOST=127.0.0.1 SERVER_PORT=$port FLOWS_DIR="$OLDPWD/flows" LOG_LEVEL=error API_KEY=bench-key \
        RATE_LIMIT_PER_USER=0 RATE_LIMIT_PER_ADDRESS=0 TELEGRAM_POLL_TIMEOUT=25 DATABASE_URL=$url \
        exec "$bin/replyflow" serve --env-file none) > "$work/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 400); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.05; done
    echo "server $name did not start:"; cat "$work/$name.log"; exit 1
}

stop_servers() {
    for pid in "${pids[@]:1}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]:1}"; do wait "$pid" 2>/dev/null || true; done
    pids=("${pids[0]}")
}

# load SCRIPT PORT...: wrk on each port at once, the connections split evenly; prints
# requests/s (summed), p50 and p99 (the worst instance's), and the requests made.
load() {
    local script=$1; shift
    local each=$((connections / $#)) i=0 loads=()
    for port in "$@"; do
        wrk -t$(( $# == 1 ? 2 : 1 )) -c"$each" -d"${seconds}s" --latency -s "$script" "http://127.0.0.1:$port" > "$work/wrk-$i.txt" &
        loads+=($!)
        i=$((i + 1))
    done
    for job in "${loads[@]}"; do wait "$job"; done
    python3 - "$work"/wrk-*.txt <<'PY'
import re, sys
def ms(text):
    # wrk writes minutes as "m" for the slowest requests.
    value, unit = re.match(r"([\d.]+)(us|ms|m|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "m": 60000, "s": 1000}[unit]
rps = p50 = p99 = 0.0; requests = errors = 0
for path in sys.argv[1:]:
    text = open(path).read()
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = max(p50, ms(re.search(r"50%\s+(\S+)", text).group(1)))
    p99 = max(p99, ms(re.search(r"99%\s+(\S+)", text).group(1)))
    requests += int(re.search(r"(\d+) requests in", text).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(bad.group(1)) if bad else 0
print(f"  {rps:8.0f} req/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   {requests} requests, {errors} not 2xx")
open(sys.argv[1] + ".requests", "w").write(str(requests))
PY
    requests_made=$(cat "$work/wrk-0.txt.requests")
    rm -f "$work"/wrk-*.txt "$work"/wrk-*.txt.requests
}

# statements DATABASE REQUESTS: statements PostgreSQL ran per request since the reset
# (the instances' background work included: each looks for outbox lanes every second).
statements() {
    local calls
    calls=$(psql -d "$1" -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$1'")
    python3 -c "print(f'  {$calls / max($2, 1):.1f} statements per request ({$calls} in all)')"
}

# seed PORT...: 200 users with 60 messages each, sent over the ports in turn.
seed() {
    python3 - "$@" <<'PY'
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
ports = sys.argv[1:]
def send(i):
    body = json.dumps({"user_id": f"hist-{i % 200}", "message": f"history message {i}"}).encode()
    url = f"http://127.0.0.1:{ports[i % len(ports)]}/send_message"
    urllib.request.urlopen(urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})).read()
with ThreadPoolExecutor(16) as pool: list(pool.map(send, range(200 * 60)))
PY
}

# wait_drained COMMAND...: waits (up to 3 minutes) until the outbox has nothing pending, so the
# history figures do not share the machine with 12,000 forwards.
wait_drained() {
    for _ in $(seq 360); do
        [ "$("$@")" = 0 ] && return
        sleep 0.5
    done
    echo "  (warning: deliveries still pending; the figures share the machine with them)"
}

for section in ${SECTIONS:-send history}; do
    script=bench/server/send_message.lua
    [ $section = history ] && script=bench/server/history.lua
    echo "== $section: ${seconds}s, $connections connections in all"

    echo "1 SQLite instance"
    serve "$section-sqlite" 5201
    if [ $section = history ]; then
        seed 5201
        wait_drained python3 -c "import sqlite3; print(sqlite3.connect('$work/$section-sqlite/data/replyflow.sqlite').execute(\"SELECT count(*) FROM outbox WHERE status = 'pending'\").fetchone()[0])"
    fi
    load $script 5201
    stop_servers

    for instances in 1 3; do
        database="${section}_pg$instances"
        psql -d postgres -c "CREATE DATABASE $database" >/dev/null
        url="postgres://replyflow@127.0.0.1:$pgport/$database?sslmode=disable"
        ports=()
        for i in $(seq "$instances"); do
            serve "$section-pg$instances-$i" $((5210 + i)) "$url"
            ports+=($((5210 + i)))
        done
        echo "$instances PostgreSQL instance(s)"
        psql -d "$database" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
        if [ $section = history ]; then
            seed "${ports[@]}"
            wait_drained psql -d "$database" -c "SELECT count(*) FROM outbox WHERE status = 'pending'"
        fi
        psql -d "$database" -c "SELECT pg_stat_statements_reset()" >/dev/null
        load $script "${ports[@]}"
        statements "$database" "$requests_made"
        stop_servers
    done
done
