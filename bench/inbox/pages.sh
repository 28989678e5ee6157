#!/bin/sh
# The inbox's pages as a member of staff gets them: 100,000 stored chats (seeded by
# inbox-bench, as bench/inbox/run.sh does), `replyflow serve` in release on a copy of that
# database, one agent signed in, then wrk on the first page of the list and on an open
# conversation. One connection gives the server time of one request (nothing queued);
# four show it under a small team's load. Prints wrk's latency distribution.
#   bench/inbox/pages.sh [CHATS] [SECONDS]
set -eu
cd "$(dirname "$0")/../.."
CHATS=${1:-100000}
SECONDS_EACH=${2:-10}
SCRATCH=${SCRATCH_PATH:-.build-rel}
nice -n 10 swift build -c release --scratch-path "$SCRATCH" --product inbox-bench >&2
nice -n 10 swift build -c release --scratch-path "$SCRATCH" --product replyflow >&2
BIN="$SCRATCH/release"
mkdir -p bench/out
DB=bench/out/inbox-$CHATS.sqlite
# A kept database is reused (seeding takes a while); delete it to seed again.
[ -f "$DB" ] || "$BIN/inbox-bench" queries "$DB" "$CHATS" 1 >&2
WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
cp "$DB" "$WORK/state.sqlite"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "bench-password" | "$BIN/replyflow" users add bench --role agent --password-stdin --db "$WORK/state.sqlite" >&2
# An empty env file: the figures must not depend on this checkout's .env.
: > "$WORK/empty.env"
SERVER_HOST=127.0.0.1 SERVER_PORT=$PORT DATABASE_PATH="$WORK/state.sqlite" UPLOADS_DIR="$WORK/uploads" FLOWS_DIR=flows LOG_LEVEL=warning \
    "$BIN/replyflow" serve --env-file "$WORK/empty.env" > "$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
BASE="http://127.0.0.1:$PORT"
curl -sf -o /dev/null -c "$WORK/cookies" -H "Origin: $BASE" --data "username=bench&password=bench-password" "$BASE/admin/login" || true
COOKIE=$(awk '$6 == "replyflow_session" { print $7 }' "$WORK/cookies")
[ -n "$COOKIE" ] || { echo "could not sign in; server log:" >&2; tail -20 "$WORK/server.log" >&2; exit 1; }
# The chat at the top of the list: the newest, as a person would open it.
CHAT=$(curl -sf -H "Cookie: replyflow_session=$COOKIE" "$BASE/admin" | sed -n 's/.*data-chat-id="\([0-9]*\)".*/\1/p' | head -1)
echo "== $CHATS chats; release build; $SECONDS_EACH s per run"
for target in "/admin" "/admin/chats/$CHAT"; do
    for connections in 1 4; do
        echo "-- GET $target, $connections connection(s)"
        wrk -t1 -c"$connections" -d"${SECONDS_EACH}s" --latency -H "Cookie: replyflow_session=$COOKIE" "$BASE$target" |
            grep -E "Requests/sec|^ +(50|90|99)%|Non-2xx"
    done
done
