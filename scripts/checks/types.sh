#!/usr/bin/env bash
# The hand-written TypeScript types (real analytics.js overloads) compile, and
# the usage examples in types/check.ts type-check against them.
set -euo pipefail
cd "$(dirname "$0")/../.."
node_modules/.bin/tsc -p types
