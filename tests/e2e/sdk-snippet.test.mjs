// The script-tag snippet, end to end: calls made before the SDK loaded are
// delivered in order with the page they were made on, and a page whose CSP
// forbids WebAssembly keeps working: nothing throws, every Promise settles.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startStack, zendeskGet, eventually, DEMO, ROOT } from './stack.mjs';
import { launchBrowser } from './browser.mjs';
import { startGate, usersByEmail, serveCustomerSite } from './sdk-gate.mjs';

const SNIPPET = readFileSync(`${ROOT}/www/snippet.min.js`, 'utf8');

let stack;
let browser;
let gate;

before(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  gate = await startGate(stack.proxyUrl);
});

after(async () => {
  await browser?.close();
  await gate?.close();
  await stack?.stop();
});

/** A customer page at `path` on its own origin: the snippet, then `body`. */
async function openCustomerPage(path, body, headers = {}) {
  const html = `<!doctype html><title>Customer page</title><script>${SNIPPET}</script><script>${body}</script>`;
  const site = await serveCustomerSite(ROOT, { [path]: { html, headers } });
  const context = await browser.newContext();
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  await page.goto(`${site.url}${path}`);
  const close = async () => { await context.close(); await site.close(); };
  return { page, close, site };
}

// The SDK is served by the page's own site (`/pkg/web/…`).
const loadCall = () => `analytics.load({ writeKey: ${JSON.stringify(DEMO.writeKey)}, proxyUrl: ${JSON.stringify(gate.url)}, sdkUrl: location.origin + '/pkg/web/zendesk_analytics.js' });`;

test('snippet calls made before the SDK loaded are delivered in order, with the page they were made on', async () => {
  const { page, close } = await openCustomerPage('/shop/checkout', `
    window.results = [
      analytics.identify('snip-1', { name: 'First Name', email: 'snippet@example.com' }),
      analytics.identify('snip-1', { name: 'Second Name' }),
      analytics.identify('snip-1', { name: 'Final Name' }),
    ];
    history.pushState({}, '', '/shop/thanks');
    ${loadCall()}
    Promise.all(window.results).then(() => analytics.flush()).then(() => { window.flushed = true; });
  `);
  await page.waitForFunction(() => window.flushed === true);
  const user = await eventually(async () => {
    const users = await usersByEmail(zendeskGet, stack.fakeUrl, 'snippet@example.com');
    return users.length === 1 && users[0].name === 'Final Name' && users[0];
  }, { what: 'the last queued identify applied last', timeoutMs: 20_000 });
  assert.equal(user.external_id, 'snip-1');
  const events = gate.batches.flatMap((b) => b.body.batch).filter((e) => e.userId === 'snip-1');
  assert.deepEqual(events.map((e) => e.traits.name), ['First Name', 'Second Name', 'Final Name']);
  for (const e of events) {
    assert.equal(e.context.page.path, '/shop/checkout', 'the page at call time, not at load');
  }
  assert.ok(await page.evaluate(() => typeof window.analytics.user().anonymousId() === 'string'), 'the real SDK replaced the stub');
  assert.deepEqual(page.problems, []);
  await close();
});

test('the snippet included twice keeps one queue', async () => {
  const { page, close } = await openCustomerPage('/twice', `
    analytics.track('Before Second Include');
    ${SNIPPET}
    window.queued = analytics.length;
  `);
  assert.equal(await page.evaluate(() => window.queued), 1);
  assert.deepEqual(page.problems, []);
  await close();
});

test("a CSP without 'wasm-unsafe-eval' leaves a silent no-op: nothing throws, every Promise settles", async () => {
  const csp = "default-src 'self'; script-src 'self' 'unsafe-inline'; connect-src *";
  const { page, close } = await openCustomerPage('/strict', `
    document.addEventListener('securitypolicyviolation', (e) => { window.violation = e.blockedURI + ' ' + e.effectiveDirective; });
    window.before = analytics.identify('csp-1', { name: 'Csp', email: 'csp@example.com' });
    ${loadCall()}
  `, { 'Content-Security-Policy': csp });
  const outcome = await page.evaluate(async () => {
    const settle = (p) => Promise.race([p.then(() => 'settled', () => 'rejected'), new Promise((r) => setTimeout(() => r('pending'), 10_000))]);
    const early = await settle(window.before);
    const later = await settle(window.analytics.track('After Failure', { a: 1 }));
    const flushed = await settle(window.analytics.flush());
    return { early, later, flushed, user: window.analytics.user().id() };
  });
  const violation = await page.evaluate(() => window.violation);
  assert.match(violation ?? '', /wasm-eval script-src/, 'the CSP did block WebAssembly');
  assert.deepEqual(outcome, { early: 'settled', later: 'settled', flushed: 'settled', user: null });
  assert.deepEqual(page.problems, [], 'nothing was thrown into the page');
  await close();
});

test('a page that kept the stub, and calls made from a replayed call\'s callback, still reach the SDK', { timeout: 60_000 }, async () => {
  const { page, close } = await openCustomerPage('/kept', `
    const kept = window.analytics;
    // An invalid call calls back at once, during the replay.
    kept.track(null, {}, {}, () => {
      window.fromCallback = kept.identify('kept-cb', { name: 'From Callback', email: 'kept-cb@example.com' });
    });
    ${loadCall()}
    window.keptCall = () => kept.identify('kept-1', { name: 'Kept Reference', email: 'kept-1@example.com' });
  `);
  await page.waitForFunction(() => window.analytics && !Array.isArray(window.analytics));
  const results = await page.evaluate(async () => {
    const later = await window.keptCall();
    const fromCallback = await window.fromCallback;
    await window.analytics.flush();
    return [later.queued, fromCallback.queued, typeof window.analytics.user().anonymousId()];
  });
  assert.deepEqual(results, [true, true, 'string']);
  for (const email of ['kept-1@example.com', 'kept-cb@example.com']) {
    await eventually(async () => (await usersByEmail(zendeskGet, stack.fakeUrl, email)).length === 1 || null, { what: `${email} in Zendesk`, timeoutMs: 20_000 });
  }
  assert.deepEqual(page.problems, []);
  await close();
});
