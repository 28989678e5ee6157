#!/usr/bin/env bash
# The comparison against a plain replay (issue 16: "on 1,000,000 events the comparison
# takes at most three times a plain replay"). Paired runs, alternating, on the same events
# file: `replay --flows flows` and `replay --flows DRAFT --compare flows`, where the draft
# is the shipped flows with another greeting. Prints each run's wall time and the ratio of
# the medians.
# Usage: bench/compare.sh [EVENTS]   (default 1000000; RUNS=N pairs, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
out=bench/out
mkdir -p "$out"

swift build -c release --product replyflow >/dev/null
bin=$(swift build -c release --show-bin-path)/replyflow

file="$out/events-$events.jsonl"
[ -f "$file" ] || python3 bench/generate_events.py "$events" "$file"

draft="$out/compare-draft"
rm -rf "$draft" && mkdir -p "$draft"
cp flows/*.yaml "$draft"/
sed -i 's/Здравствуйте/Добрый день/' "$draft/daily-greeting.yaml"

echo "== replay vs replay --compare: $events events of the default flows (release build), ${RUNS:-3} pairs"
plain=()
compared=()
seconds() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
for _ in $(seq "${RUNS:-3}"); do
    read -r p pm < <(seconds "$bin" replay "$file" --flows flows)
    read -r c cm < <(seconds "$bin" replay "$file" --flows "$draft" --compare flows)
    echo "plain replay: ${p} s (peak ${pm} KB)   comparison: ${c} s (peak ${cm} KB)"
    plain+=("$p")
    compared+=("$c")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ r[NR] = $1 } END { print r[int((NR + 1) / 2)] }'; }
mp=$(median "${plain[@]}")
mc=$(median "${compared[@]}")
awk -v p="$mp" -v c="$mc" 'BEGIN { printf "median: plain replay %.2f s, comparison %.2f s: %.2f times (target: at most 3)\n", p, c, c / p }'
echo "== what the comparison says"
"$bin" replay "$file" --flows "$draft" --compare flows | head -12
