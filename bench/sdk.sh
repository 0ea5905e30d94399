#!/usr/bin/env bash
# The browser SDK benchmark: sizes and per-call main-thread time against
# @segment/analytics-next and @rudderstack/analytics-js (see bench/sdk.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f pkg/web/zendesk_analytics_bg.wasm ] || bash scripts/build
node bench/sdk.mjs
