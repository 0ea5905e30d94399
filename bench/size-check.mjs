// The size check in `npm test`. It fails when the SDK (wasm + JS glue, gzip -9)
// grows past SIZE_CEILING, the size it has reached so far plus a little room,
// or when the snippet is over 1,024 bytes. SIZE_CEILING is lowered each time
// the SDK shrinks, until it reaches the 30,000-byte budget (WASM_GZIP_BUDGET);
// until then the remaining gap is printed on every run.

import { ourSize, snippetSize, WASM_GZIP_BUDGET, SNIPPET_BUDGET } from './sdk-sizes.mjs';

const SIZE_CEILING = Number(process.env.SDK_SIZE_CEILING ?? 43_200);

const ours = await ourSize();
const snippet = snippetSize();
console.log(`SDK wasm+glue gzip -9: ${ours.total} bytes (wasm ${ours.wasm}, glue ${ours.glue}); ceiling ${SIZE_CEILING}, budget ${WASM_GZIP_BUDGET}`);
if (ours.total > WASM_GZIP_BUDGET) {
  console.log(`  still ${ours.total - WASM_GZIP_BUDGET} bytes over the budget`);
}
console.log(`snippet: ${snippet} bytes (budget ${SNIPPET_BUDGET})`);
const over = [];
if (ours.total > Math.max(SIZE_CEILING, WASM_GZIP_BUDGET)) {
  over.push(`the SDK grew to ${ours.total} bytes, past its ceiling of ${SIZE_CEILING}: find what the change pulled into the wasm (twiggy top target/wasm32-unknown-unknown/release/zendesk_analytics.wasm)`);
}
if (snippet > SNIPPET_BUDGET) over.push(`the snippet is ${snippet - SNIPPET_BUDGET} bytes over 1 KB`);
if (over.length) {
  console.error(`size check failed: ${over.join('; ')}`);
  process.exit(1);
}
