// `npm run bench` (via bench/sdk.sh): the SDK side by side with
// @segment/analytics-next and @rudderstack/analytics-js, in one run:
//   - size: wasm + JS glue vs each peer bundled with esbuild --bundle --minify
//     --format=esm, all gzip -9; the snippet raw;
//   - main-thread time per `track` (and `identify`) over 10,000 calls in
//     headless Chromium (the synchronous part each call costs the page), with ratios.
// Everything runs against a local HTTP server on 127.0.0.1:0 that serves the
// files and answers every SDK's settings and collection endpoints with 200.

import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { ROOT, ourSize, peerSizes, snippetSize, WASM_GZIP_BUDGET, SNIPPET_BUDGET } from './sdk-sizes.mjs';
import { CHROMIUM_ARGS } from '../tests/e2e/browser.mjs';

const CALLS = Number(process.env.SDK_BENCH_CALLS ?? 10_000);
const WRITE_KEY = 'bench-write-key';

async function bundlePeer(contents) {
  const out = await build({
    stdin: { contents, resolveDir: ROOT, loader: 'js' },
    bundle: true, minify: true, format: 'esm', write: false, logLevel: 'silent',
  });
  return out.outputFiles[0].text;
}

// Each page loads one SDK, waits until it is ready, warms up, then times CALLS
// synchronous calls of each kind. `window.bench` holds ms per call by kind.
// track (anonymous): no user yet, so our core maps it to nothing and it is
// dropped in the browser; identify: mapped, queued and persisted; track
// (identified), after the identify: mapped to a user event, queued and
// persisted. The peers queue every call.
const TIMING = `
  const props = { plan: 'pro', amount: 42, currency: 'EUR' };
  const traits = { name: 'Ada Lovelace', email: 'ada@example.com', plan: 'pro' };
  const calls = {
    'track (anonymous)': () => analytics.track('Order Completed', props),
    identify: () => analytics.identify('user-1', traits),
    'track (identified)': () => analytics.track('Order Completed', props),
  };
  const results = {};
  for (const [kind, call] of Object.entries(calls)) {
    for (let i = 0; i < 200; i++) call();
    await new Promise((r) => setTimeout(r, 200));
    const start = performance.now();
    for (let i = 0; i < ${CALLS}; i++) call();
    results[kind] = (performance.now() - start) / ${CALLS};
    await new Promise((r) => setTimeout(r, 500));
  }
  window.bench = results;`;

function pages(base) {
  return {
    '/bench/ours.html': `<script type="module">
      import init, { load } from '/pkg/web/zendesk_analytics.js';
      await init();
      const analytics = load({ writeKey: '${WRITE_KEY}', proxyUrl: '${base}' });
      await analytics.ready();
      ${TIMING}</script>`,
    '/bench/segment.html': `<script type="module">
      import { AnalyticsBrowser } from '/peer/segment.js';
      const [analytics] = await AnalyticsBrowser.load({ writeKey: '${WRITE_KEY}', cdnURL: '${base}' });
      ${TIMING}</script>`,
    '/bench/rudder.html': `<script type="module">
      import { RudderAnalytics } from '/peer/rudder.js';
      const analytics = new RudderAnalytics();
      analytics.load('${WRITE_KEY}', '${base}', { configUrl: '${base}', pluginsSDKBaseURL: '${base}/plugins', destSDKBaseURL: '${base}/dest', logLevel: 'ERROR' });
      await new Promise((resolve) => analytics.ready(resolve));
      ${TIMING}</script>`,
  };
}

async function startServer() {
  const peers = {
    '/peer/segment.js': await bundlePeer("export { AnalyticsBrowser } from '@segment/analytics-next';"),
    '/peer/rudder.js': await bundlePeer("export { RudderAnalytics } from '@rudderstack/analytics-js';"),
  };
  let base;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, base);
    const send = (status, type, body) => {
      res.writeHead(status, { 'content-type': type, 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' });
      res.end(body);
    };
    if (req.method === 'OPTIONS' || req.method === 'POST') return req.resume().on('end', () => send(200, 'application/json', '{}'));
    if (url.pathname.endsWith('/settings')) {
      return send(200, 'application/json', JSON.stringify({
        integrations: {
          zendesk: { subdomain: 'demo' },
          'Segment.io': { apiKey: WRITE_KEY, apiHost: `${url.host}/v1`, protocol: 'http' },
        },
        plan: { track: { __default: { enabled: true } } },
      }));
    }
    if (url.pathname.startsWith('/sourceConfig')) {
      return send(200, 'application/json', JSON.stringify({
        isHosted: false,
        source: { id: 'bench', name: 'bench', writeKey: WRITE_KEY, enabled: true, workspaceId: 'bench', updatedAt: new Date().toISOString(), config: {}, destinations: [] },
      }));
    }
    const page = pages(base)[url.pathname];
    if (page) return send(200, 'text/html', `<!doctype html><title>bench</title>${page}`);
    if (peers[url.pathname]) return send(200, 'text/javascript', peers[url.pathname]);
    if (url.pathname.startsWith('/pkg/')) {
      try {
        const file = await readFile(path.join(ROOT, path.normalize(url.pathname)));
        return send(200, url.pathname.endsWith('.wasm') ? 'application/wasm' : 'text/javascript', file);
      } catch {
        return send(404, 'text/plain', 'not found');
      }
    }
    send(404, 'text/plain', 'not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  return { server, base };
}

async function timeTrack(browser, base, page) {
  const context = await browser.newContext();
  const tab = await context.newPage();
  try {
    await tab.goto(`${base}/bench/${page}.html`);
    await tab.waitForFunction(() => typeof window.bench === 'object', null, { timeout: 180_000 });
    return await tab.evaluate(() => window.bench);
  } catch (e) {
    return new Error(e.message.split('\n')[0]);
  } finally {
    await context.close();
  }
}

const fmt = (n) => n.toLocaleString('en-US');
const ours = await ourSize();
const peers = await peerSizes();
const snippet = snippetSize();
console.log('size (gzip -9; peers bundled with esbuild --bundle --minify --format=esm)');
console.log(`  zendesk-analytics wasm+glue   ${fmt(ours.total)} B (wasm ${fmt(ours.wasm)}, glue ${fmt(ours.glue)}; budget ${fmt(WASM_GZIP_BUDGET)})`);
for (const [name, size] of Object.entries(peers)) {
  console.log(`  ${name.padEnd(28)} ${fmt(size)} B   ours/peer = ${(ours.total / size).toFixed(2)}`);
}
console.log(`  snippet (minified, raw)       ${fmt(snippet)} B (budget ${fmt(SNIPPET_BUDGET)})`);

const { server, base } = await startServer();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
try {
  const results = {};
  for (const [name, page] of [['zendesk-analytics', 'ours'], ['@segment/analytics-next', 'segment'], ['@rudderstack/analytics-js', 'rudder']]) {
    results[name] = await timeTrack(browser, base, page);
  }
  for (const kind of ['track (anonymous)', 'identify', 'track (identified)']) {
    console.log(`main-thread time per ${kind.replace(/^(\w+)/, '$1()')}, ${fmt(CALLS)} calls, headless Chromium`);
    const time = (r) => (r instanceof Error ? r : r[kind]);
    const peerTimes = Object.entries(results).filter(([n, r]) => n !== 'zendesk-analytics' && typeof time(r) === 'number').map(([, r]) => time(r));
    const fastest = peerTimes.length ? Math.min(...peerTimes) : undefined;
    for (const [name, r] of Object.entries(results)) {
      if (r instanceof Error) console.log(`  ${name.padEnd(28)} failed: ${r.message}`);
      else console.log(`  ${name.padEnd(28)} ${(time(r) * 1000).toFixed(1)} µs/call`);
    }
    const mine = time(results['zendesk-analytics']);
    // The target is for track only.
    const target = kind.startsWith('track') ? ' (target ≤ 0.1)' : '';
    if (typeof mine === 'number' && fastest) console.log(`  ours / faster peer = ${(mine / fastest).toFixed(3)}${target}`);
  }
} finally {
  await browser.close();
  server.close();
}
