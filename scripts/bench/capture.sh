#!/usr/bin/env bash
# Public capture throughput over loopback HTTP with wrk as the load generator (Debian's wrk).
# Usage: scripts/bench/capture.sh [seconds] [connections] [database-url]
# VORONKA_LOG sets the server's log filter (e.g. voronka_app=debug for each intake batch's timings)
# and KEEP_LOG=FILE keeps its log. SALESPEOPLE=N adds N active salespeople first, so that every
# intake batch loads a routing context and routes each lead to one of them (default: none).
# VORONKA_BIN=PATH runs that binary instead of building this checkout (to alternate two builds).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}; conns=${2:-64}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
# Built with the bench crate, as the other benchmarks are, so that one set of features serves both.
[ -n "${VORONKA_BIN:-}" ] || cargo build --release -q -p voronka -p voronka-bench
dir=$(mktemp -d); trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
url=${3:-sqlite://$dir/bench.db}
bin=${VORONKA_BIN:-target/release/voronka}
key=$($bin --database-url "$url" form create --name bench)
for i in $(seq 1 "${SALESPEOPLE:-0}"); do
  echo "bench-password-$i" | $bin --database-url "$url" user add --email "sales$i@bench.example" \
    --password-stdin --role salesperson >/dev/null
done
VORONKA_LOG=${VORONKA_LOG:-warn} $bin --database-url "$url" serve --listen 127.0.0.1:18181 --capture-rate 1000000 >"$dir/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:18181/login && break; sleep 0.2; done
before=$($bin --database-url "$url" export leads --format jsonl 2>/dev/null | wc -l)
wrk -t2 -c"$conns" -d"${secs}s" --latency -s scripts/bench/capture.lua "http://127.0.0.1:18181/f/$key"
kill $pid; wait $pid 2>/dev/null || true
[ -n "${KEEP_LOG:-}" ] && cp "$dir/serve.log" "$KEEP_LOG"
after=$($bin --database-url "$url" export leads --format jsonl 2>/dev/null | wc -l)
echo "stored leads: $((after - before))"
