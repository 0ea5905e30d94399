// Sizes the way the issue defines them: each SDK bundled with
// `esbuild --bundle --minify --format=esm`, then gzip -9. Ours is the web
// build's wasm plus its JS glue; the snippet is measured raw (≤ 1 KB).

import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WASM_GZIP_BUDGET = 30_000;
export const SNIPPET_BUDGET = 1_024;

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;

async function bundle(contents) {
  const out = await build({
    stdin: { contents, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
    logLevel: 'silent',
    // The wasm is counted separately; the glue references it by URL.
    external: ['*.wasm'],
  });
  return out.outputFiles[0].contents;
}

/** Our wasm + glue, gzip -9 (throws when the web build is missing). */
export async function ourSize() {
  const wasmPath = path.join(ROOT, 'pkg/web/zendesk_analytics_bg.wasm');
  if (!existsSync(wasmPath)) throw new Error('pkg/web is missing: run `npm run build` first');
  const glue = await bundle("export { default, load } from './pkg/web/zendesk_analytics.js';");
  const wasm = readFileSync(wasmPath);
  return { wasm: gzip(wasm), glue: gzip(glue), total: gzip(wasm) + gzip(glue), wasmRaw: wasm.length };
}

export async function peerSizes() {
  return {
    '@segment/analytics-next': gzip(await bundle("export { AnalyticsBrowser } from '@segment/analytics-next';")),
    '@rudderstack/analytics-js': gzip(await bundle("export { RudderAnalytics } from '@rudderstack/analytics-js';")),
  };
}

export function snippetSize() {
  return readFileSync(path.join(ROOT, 'www/snippet.min.js')).length;
}
