#!/bin/sh
# The inbox queries' benchmark: 100,000 chats (about a million messages) seeded through
# the bulk writer, then each query of the inbox timed (p50/p99), and the commit cost of
# the inbox's trigger and indexes, paired against the schema before them.
#   bench/inbox/run.sh [CHATS] [RUNS] [COMMITS]
set -eu
cd "$(dirname "$0")/../.."
CHATS=${1:-100000}
RUNS=${2:-200}
COMMITS=${3:-20000}
SCRATCH=${SCRATCH_PATH:-.build-rel}
nice -n 10 swift build -c release --scratch-path "$SCRATCH" --product inbox-bench >&2
BIN="$SCRATCH/release/inbox-bench"
mkdir -p bench/out
DB=bench/out/inbox-$CHATS.sqlite
# A kept database is reused (seeding takes a while); delete it to seed again.
"$BIN" queries "$DB" "$CHATS" "$RUNS"
"$BIN" commits "$COMMITS"
