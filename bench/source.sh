#!/usr/bin/env bash
# Zendesk Source: sync a generated account of TICKETS tickets (default
# 100,000) from the fake Zendesk into SQLite with release builds, and report
# rows/s and the requests used against the floor set by Zendesk's incremental
# export limit (10 requests/minute, 1,000 records per page).
#
# The export budget is lifted for the run (the fake does not enforce it
# either): with Zendesk's 10/minute the same sync is bound by that floor, and
# the figures below show how close the request count comes to it.
set -euo pipefail
cd "$(dirname "$0")/.."
TICKETS=${TICKETS:-100000}
SEED=${SEED:-1}

cargo build -q --profile native -p zendesk-fake -p zendesk-source
BIN=target/native
work=$(mktemp -d)
cleanup() { [ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

gen_start=$(date +%s%N)
RUST_LOG=warn "$BIN/zendesk-fake" --listen 127.0.0.1:0 --generate-tickets "$TICKETS" --seed "$SEED" --export-rpm 0 >"$work/fake.out" &
FAKE_PID=$!
for _ in $(seq 1 600); do
  grep -q "listening on" "$work/fake.out" 2>/dev/null && break
  sleep 0.1
done
URL=$(sed -n 's/^zendesk-fake listening on //p' "$work/fake.out")
[ -n "$URL" ] || { echo "the fake did not start" >&2; exit 1; }
gen_ns=$(( $(date +%s%N) - gen_start ))

start=$(date +%s%N)
RUST_LOG=warn "$BIN/zendesk-source" sync --url "$URL" --warehouse "$work/bench.sqlite" \
  --export-rpm 1000000 --core-rpm 1000000 >"$work/summary.txt"
elapsed_ns=$(( $(date +%s%N) - start ))
cat "$work/summary.txt"

awk -v elapsed_ns="$elapsed_ns" -v tickets="$TICKETS" -v gen_ns="$gen_ns" '
  $1 == "tickets" || $1 == "users" || $1 == "organizations" || $1 == "ticket_events" {
    export_rows += $3; export_requests += $5; floor += ($3 > 0 ? int(($3 + 999) / 1000) : 1)
  }
  $1 ~ /^(groups|satisfaction_ratings|activities)$/ { core_requests += $5 }
  $1 == "total:" { rows = $2; requests = $4 }
  END {
    elapsed = elapsed_ns / 1e9; gen = gen_ns / 1e9
    printf "\naccount: %d tickets generated (fake ready in %.1fs)\n", tickets, gen
    printf "sync: %d rows in %.1fs = %.0f rows/s into SQLite\n", rows, elapsed, rows / elapsed
    printf "incremental export requests: %d for %d export rows; floor at 1,000 rows/page: %d (ratio %.2f)\n", export_requests, export_rows, floor, export_requests / floor
    printf "at Zendesk'"'"'s 10 export requests/minute that floor is %.1f minutes; Core API requests: %d (%.1f minutes at 200/minute)\n", floor / 10, core_requests, core_requests / 200
  }' "$work/summary.txt"
