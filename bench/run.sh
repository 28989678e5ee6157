#!/usr/bin/env bash
# Benchmarks the issue's targets and prints the figures:
#   - `replyflow replay` of the default flows, end to end from a JSONL file (events/s)
#   - peak memory of a replay of one million events
#   - `replyflow check` of 100 flow files
#   - the same replay behaviour hand-written in Python with sqlite3, for comparison
# Usage: bench/run.sh [EVENTS]   (default 1000000; RUNS=N replays, default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
out=bench/out
mkdir -p "$out"

swift build -c release --product replyflow >/dev/null
bin=$(swift build -c release --show-bin-path)/replyflow

file="$out/events-$events.jsonl"
[ -f "$file" ] || python3 bench/generate_events.py "$events" "$file"

echo "== replay: $events events of the default flows (scratch state, release build), ${RUNS:-5} runs"
# This machine's speed drifts by a fifth within minutes: every run is printed, then the
# median and the best.
rates=()
for _ in $(seq "${RUNS:-5}"); do
    run_output=$(/usr/bin/time -f "peak memory: %M KB, wall: %e s" "$bin" replay "$file" --flows flows 2>&1 | grep -E "Replayed|peak memory")
    echo "$run_output"
    rates+=("$(echo "$run_output" | sed -n 's/.*(\([0-9,]*\) events\/s).*/\1/p' | tr -d ,)")
done
printf '%s\n' "${rates[@]}" | sort -n | awk '{ r[NR] = $1 } END { printf "replay: median %d events/s, best %d events/s (%d runs)\n", r[int((NR + 1) / 2)], r[NR], NR }'

echo "== replay --db (state and run traces kept in a SQLite file)"
rm -f "$out/replay.sqlite"*
/usr/bin/time -f "peak memory: %M KB, wall: %e s" "$bin" replay "$file" --flows flows --db "$out/replay.sqlite" 2>&1 | grep -E "Replayed|peak memory"

echo "== check: 100 flow files"
checkdir="$out/check-100"
rm -rf "$checkdir" && mkdir -p "$checkdir"
for i in $(seq -w 1 100); do sed "s/^name: .*/name: Flow $i/" flows/auto-reply.yaml > "$checkdir/flow-$i.yaml"; done
python3 - "$bin" "$checkdir" <<'PY'
import subprocess, sys, time
runs = []
for _ in range(10):
    start = time.perf_counter()
    subprocess.run([sys.argv[1], "check", sys.argv[2]], check=True, stdout=subprocess.DEVNULL)
    runs.append((time.perf_counter() - start) * 1000)
runs.sort()
print(f"check of 100 files: median {runs[len(runs)//2]:.0f} ms, best {runs[0]:.0f} ms (10 runs, whole process)")
PY

echo "== baseline: the same behaviour hand-written in Python with sqlite3"
python3 bench/baseline.py "$file"
