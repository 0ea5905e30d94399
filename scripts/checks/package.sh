#!/usr/bin/env bash
# The npm package ships what its `exports` map points at and every module the
# built glue imports (the wasm, the JS snippets): `npm pack --dry-run` lists
# the files a user would get. (wasm-pack's own `*` .gitignore once left the
# whole build out of the package without any error.)
set -euo pipefail
cd "$(dirname "$0")/../.."
npm pack --dry-run --json --ignore-scripts 2>/dev/null | node scripts/checks/package-contents.mjs
