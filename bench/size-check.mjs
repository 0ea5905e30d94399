// The size budget, for `npm test`: exits non-zero when the SDK (wasm + JS
// glue, gzip -9) is over 30,000 bytes or the snippet over 1,024 bytes.

import { ourSize, snippetSize, WASM_GZIP_BUDGET, SNIPPET_BUDGET } from './sdk-sizes.mjs';

const ours = await ourSize();
const snippet = snippetSize();
console.log(`SDK wasm+glue gzip -9: ${ours.total} bytes (wasm ${ours.wasm}, glue ${ours.glue}; budget ${WASM_GZIP_BUDGET})`);
console.log(`snippet: ${snippet} bytes (budget ${SNIPPET_BUDGET})`);
const over = [];
if (ours.total > WASM_GZIP_BUDGET) over.push(`the SDK is ${ours.total - WASM_GZIP_BUDGET} bytes over its gzip budget`);
if (snippet > SNIPPET_BUDGET) over.push(`the snippet is ${snippet - SNIPPET_BUDGET} bytes over 1 KB`);
if (over.length) {
  console.error(`size check failed: ${over.join('; ')}`);
  process.exit(1);
}
