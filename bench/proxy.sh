#!/usr/bin/env bash
# The proxy benchmark: durable ingestion throughput and latency, and Zendesk
# requests per 1,000 identify+group events (per-event path, coalesced, bulk).
# Release build (`native` profile); about a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --profile native -p zendesk-proxy --example proxy_bench
