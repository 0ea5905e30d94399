#!/usr/bin/env bash
# The SDK may not grow back (bench/size-check.mjs); the snippet stays under 1 KB.
set -euo pipefail
cd "$(dirname "$0")/../.."
node bench/size-check.mjs
