#!/usr/bin/env bash
# Benchmarks `replyflow serve` (release build) against fake Telegram and FCM on loopback
# and prints the figures:
#   - POST /send_message (JSON) throughput and latency (wrk)
#   - GET /message_history (limit 50) throughput and latency (wrk)
#   - 1,000 socket.io clients receiving new_message: delivery latency, server memory
#   - 1,000 GET /api/stream subscribers receiving an update: delivery latency, memory
#   - GET /api/chats over 100,000 stored chats: throughput and latency per page
# Needs wrk (apt-get install wrk) and python's websockets (pip install websockets).
# Usage: bench/server/run.sh [SECONDS] [CLIENTS]   (defaults 15 and 1000)
#        SECTIONS="stream chats" bench/server/run.sh   runs only those sections
#        (send history sockets stream chats).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-15}
clients=${2:-1000}
scratch=${SCRATCH:-/tmp/relbuild}
sections=" ${SECTIONS:-send history sockets stream chats} "
want() { [[ "$sections" == *" $1 "* ]]; }
work=$(mktemp -d /tmp/replyflow-bench-XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

swift build -c release --scratch-path "$scratch" --product replyflow >/dev/null
swift build -c release --scratch-path "$scratch" --product replyflow-fakes >/dev/null
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)

"$bin/replyflow-fakes" "$work/fakes.env" > "$work/fakes.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/fakes.env" ] && break; sleep 0.1; done

# serve FLOWS PORT: starts a server on a fresh database, waits for /health.
serve() {
    local flows=$1 port=$2 name=$3
    mkdir -p "$work/$name"
    (cd "$work/$name" && set -a && . "$work/fakes.env" && set +a &&
        SERVER_HOST=127.0.0.1 SERVER_PORT=$port FLOWS_DIR="$OLDPWD/$flows" LOG_LEVEL=error API_KEY=bench-key \
        RATE_LIMIT_PER_USER=0 TELEGRAM_POLL_TIMEOUT=25 exec "$bin/replyflow" serve --env-file none) \
        > "$work/$name.log" 2>&1 &
    server=$!
    pids+=($server)
    for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.05; done
    echo "server did not start:"; cat "$work/$name.log"; exit 1
}

if want send; then
echo "== POST /send_message (JSON), default flows, ${seconds}s, 2 threads, 64 connections"
serve flows 5101 send
wrk -t2 -c64 -d"${seconds}s" --latency -s bench/server/send_message.lua http://127.0.0.1:5101 | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors"
echo "server RSS: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$server/status)"

# A fresh server: the first one is still delivering its backlog to the fake Telegram.
kill "$server"; wait "$server" 2>/dev/null || true
fi
if want history; then
echo "== GET /message_history (limit 50), 200 users with 60 messages each, ${seconds}s"
serve flows 5103 history
python3 - <<'PY'
import json, urllib.request
from concurrent.futures import ThreadPoolExecutor
def send(i):
    body = json.dumps({"user_id": f"hist-{i % 200}", "message": f"history message {i}"}).encode()
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:5103/send_message", data=body, headers={"Content-Type": "application/json"})).read()
with ThreadPoolExecutor(16) as pool: list(pool.map(send, range(200 * 60)))
PY
# Let the outbox deliver those 12,000 forwards to the fake Telegram first, so the history
# run does not share the machine with them (a fixed 5 s wait was not enough for all).
python3 - "$work/history/data/replyflow.sqlite" <<'PY'
import sqlite3, sys, time
deadline = time.time() + 180
while time.time() < deadline:
    pending = sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
    if pending == 0:
        break
    time.sleep(0.5)
else:
    print(f"warning: {pending} deliveries still pending; the history figures share the machine with them")
PY
wrk -t2 -c64 -d"${seconds}s" --latency -s bench/server/history.lua http://127.0.0.1:5103 | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors"
kill "$server"; wait "$server" 2>/dev/null || true
fi

if want sockets; then
echo "== socket.io: $clients clients (WebSocket), new_message from a broadcasting flow"
serve bench/server/broadcast-flows 5102 sockets
python3 bench/server/sockets.py http://127.0.0.1:5102 "$server" "$clients" 20
kill "$server"; wait "$server" 2>/dev/null || true
fi

if want stream; then
echo "== GET /api/stream: $clients subscribers, an update per POST /send_message"
serve flows 5104 stream
python3 bench/server/stream.py http://127.0.0.1:5104 "$server" bench-key "$clients" 20
kill "$server"; wait "$server" 2>/dev/null || true
fi

if want chats; then
echo "== GET /api/chats (perPage 50, pages spread over all), 100,000 chats stored, ${seconds}s"
# The schema comes from a first start; the chats are then written straight into SQLite
# (one user message each, so the conversations trigger makes each chat).
serve flows 5105 chats
kill "$server"; wait "$server" 2>/dev/null || true
python3 - "$work/chats/data/replyflow.sqlite" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = time.time()
with db:
    db.executemany(
        "INSERT INTO messages (user_id, source, direction, text, media, created_at) VALUES (?, ?, 'user', ?, 'none', ?)",
        ((f"chat-{i}", ("app", "telegram", "instagram")[i % 3], f"message {i}", now - 100000 + i) for i in range(100000)))
print("chats stored:", db.execute("SELECT count(*) FROM conversations").fetchone()[0])
PY
serve flows 5105 chats
for run in "4 0" "16 0" "16 20"; do
    set -- $run
    echo "-- $1 connections, pages: $([ "$2" = 0 ] && echo "all 2,000" || echo "the first $2")"
    CHATS=100000 FIRST_PAGES=$2 wrk -t2 -c$1 -d"${seconds}s" --latency -s bench/server/chats.lua http://127.0.0.1:5105 | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors"
done
fi
