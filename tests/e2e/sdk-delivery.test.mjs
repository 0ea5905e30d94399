// The SDK's delivery promises, end to end: real Chromium, the real proxy and
// the fake Zendesk, with a gate in front of the proxy to play a bad network.
// Identify calls are used because they become Zendesk users, which the
// fake's own API shows: "delivered exactly once" means one user per email.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, zendeskGet, eventually, DEMO } from './stack.mjs';
import { serveDemo } from '../../scripts/serve.mjs';
import { launchBrowser } from './browser.mjs';
import { startGate, usersByEmail } from './sdk-gate.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/**
 * The demo page, sending through a fresh gate (`gateSettings` applied to it
 * before the page loads); page errors collected.
 */
async function openThroughGate(gateSettings = {}) {
  const gate = Object.assign(await startGate(stack.proxyUrl), gateSettings);
  const demo = await serveDemo({ proxyUrl: gate.url, writeKey: DEMO.writeKey });
  const context = await browser.newContext();
  const page = await openTab(context, demo.url);
  const close = async () => { await context.close(); await demo.close(); await gate.close(); };
  return { gate, page, context, url: demo.url, close };
}

/** A tab of `context` on `url` with the SDK loaded; page errors collected. */
async function openTab(context, url) {
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => window.analytics && typeof window.analytics.identify === 'function');
  return page;
}

/** Collects the messageIds `on('delivered')` reports into `window.deliveredIds`. */
async function recordDeliveries(page) {
  await page.evaluate(() => {
    window.deliveredIds = [];
    window.analytics.on('delivered', ({ messageIds }) => window.deliveredIds.push(...messageIds));
  });
}

/** Hides the tab. Headless Chromium never does: the page is told so as a browser would. */
async function hide(page) {
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
}

const people = (tag, n) => Array.from({ length: n }, (_, i) => ({
  id: `${tag}-${i}`, name: `Person ${tag} ${i}`, email: `${tag}-${i}@example.com`,
}));

async function identifyAll(page, list) {
  await page.evaluate((list) => {
    for (const p of list) window.analytics.identify(p.id, { name: p.name, email: p.email });
  }, list);
}

async function expectEachOnce(list) {
  for (const p of list) {
    const users = await eventually(async () => {
      const found = await usersByEmail(zendeskGet, stack.fakeUrl, p.email);
      return found.length > 0 && found;
    }, { what: `${p.email} in Zendesk`, timeoutMs: 30_000 });
    assert.equal(users.length, 1, `${p.email} exists exactly once`);
    assert.equal(users[0].name, p.name);
  }
}

test('reloading the page while a flush is in flight delivers every event exactly once', async () => {
  const { gate, page, close } = await openThroughGate();
  gate.holdMs = 1_500;
  const list = people('reload', 5);
  await identifyAll(page, list);
  await page.evaluate(() => { window.analytics.flush(); });
  await eventually(() => gate.batches.length > 0 || null, { what: 'the batch reaching the gate' }).catch(() => {});
  await page.reload();
  await page.waitForFunction(() => window.analytics && typeof window.analytics.identify === 'function');
  gate.holdMs = 0;
  await expectEachOnce(list);
  const accepted = new Set(gate.accepted());
  assert.ok(list.length <= accepted.size);
  assert.deepEqual(page.problems, []);
  await close();
});

test('events made offline are delivered when the browser is back online', async () => {
  const { gate, page, context, close } = await openThroughGate();
  await context.setOffline(true);
  const list = people('offline', 3);
  await identifyAll(page, list);
  await page.evaluate(() => window.analytics.flush());
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(gate.batches.length, 0, 'nothing is sent while offline');
  assert.equal((await usersByEmail(zendeskGet, stack.fakeUrl, list[0].email)).length, 0);
  await context.setOffline(false);
  await expectEachOnce(list);
  assert.deepEqual(page.problems, []);
  await close();
});

test('a queue full while offline reports each event it pushes out, and warns on the console once', async () => {
  const { page, context, close } = await openThroughGate();
  const warnings = [];
  page.on('console', (m) => { if (m.text().includes('queue is full')) warnings.push(m.text()); });
  await page.evaluate(() => window.analytics.ready());
  await context.setOffline(true);
  const dropped = await page.evaluate(() => {
    const ids = [];
    window.analytics.on('dropped', (e) => ids.push(e.messageId));
    const first = [];
    for (let i = 0; i < 1_010; i++) {
      window.analytics.identify(`full-${i}`, { name: `Full ${i}`, email: `full-${i}@example.com` }, (r) => { if (i < 10) first.push(r.messageId); });
    }
    return new Promise((r) => setTimeout(() => r({ ids, first }), 500));
  });
  assert.equal(dropped.ids.length, 10, 'one report per event pushed out');
  assert.deepEqual(dropped.ids, dropped.first, 'the oldest ten, in order');
  assert.equal(warnings.length, 1, `one console line: ${JSON.stringify(warnings.slice(0, 3))}`);
  assert.deepEqual(page.problems, []);
  await close();
});

test('a proxy answering 503, then 429 with Retry-After, still gets every event, none twice', async () => {
  const { gate, page, close } = await openThroughGate();
  let refusals = 0;
  const times = [];
  gate.answer = () => {
    times.push(Date.now());
    refusals += 1;
    if (refusals <= 3) return { status: 503 };
    if (refusals === 4) return { status: 429, headers: { 'Retry-After': '2' } };
    return null;
  };
  const list = people('retry', 4);
  await identifyAll(page, list);
  await page.evaluate(() => window.analytics.flush());
  await expectEachOnce(list);
  const statuses = gate.batches.map((b) => b.status);
  assert.deepEqual(statuses.slice(0, 4), [503, 503, 503, 429]);
  // Retry-After: 2 was honoured before the next attempt.
  const waited = times[4] - times[3];
  assert.ok(waited >= 1_900, `waited ${waited} ms after Retry-After: 2`);
  assert.deepEqual(gate.accepted().sort(), [...new Set(gate.accepted())].sort(), 'no event accepted twice');
  assert.deepEqual(page.problems, []);
  await close();
});

test('events fired just before navigating away are delivered', async () => {
  const { page, close } = await openThroughGate();
  const list = people('leave', 3);
  await identifyAll(page, list);
  await page.goto('about:blank');
  await expectEachOnce(list);
  await close();
});

test('a page-exit queue over the 64 KB keepalive budget: what leaves is delivered, the rest on the next page, each once', async () => {
  const { gate, page, url, close } = await openThroughGate();
  // ~145 KB queued at exit: Chromium takes keepalive requests (and beacons)
  // up to 64 KB in flight, so only the first chunk can leave with the page.
  const list = people('budget', 8).map((p) => ({ ...p, bio: 'x'.repeat(18_000) }));
  await page.evaluate((list) => {
    for (const p of list) window.analytics.identify(p.id, { name: p.name, email: p.email, bio: p.bio });
  }, list);
  await page.goto('about:blank');
  await eventually(() => gate.batches.length > 0 || null, { what: 'the page-exit chunk reaching the gate' });
  // The next page of the site adopts what the closed page could not send.
  await page.goto(url);
  await expectEachOnce(list);
  assert.deepEqual(page.problems, []);
  await close();
});

test('events of a tab closed while the proxy was down are sent by a tab still open, once it is back', async () => {
  const { gate, page: closing, context, url, close } = await openThroughGate();
  const staying = await openTab(context, url);
  let down = true;
  gate.answer = () => (down ? { status: 503 } : null);
  const list = people('closed-tab', 3);
  await identifyAll(closing, list);
  await closing.close();
  await eventually(() => gate.batches.length > 0 || null, { what: 'the closing tab trying to send' });
  down = false;
  // Nothing reloads: the open tab's heartbeat finds the closed tab's queue.
  await expectEachOnce(list);
  assert.deepEqual(staying.problems, []);
  await close();
});

test('a tab going hidden sends its queue at once, and on(\'delivered\') reports each event once', async () => {
  const { gate, page, close } = await openThroughGate();
  await recordDeliveries(page);
  const list = people('hidden', 3);
  await identifyAll(page, list);
  await hide(page);
  await expectEachOnce(list);
  // Past the 5 s flush timer the calls set: nothing is left to send or report twice.
  await new Promise((r) => setTimeout(r, 6_000));
  const ids = await page.evaluate(() => window.deliveredIds);
  assert.equal(ids.length, 3, `three deliveries reported: ${JSON.stringify(ids)}`);
  assert.equal(new Set(ids).size, 3);
  assert.deepEqual(gate.accepted().sort(), [...ids].sort(), 'what was reported is what the proxy accepted');
  assert.deepEqual(page.problems, []);
  await close();
});

test('events made while the settings are still loading are delivered when the tab is closed at once', { timeout: 90_000 }, async () => {
  const { page, close } = await openThroughGate({ holdSettingsMs: 4_000 });
  const list = people('early', 3);
  await identifyAll(page, list);
  // Closed, not navigated: navigating would also end the settings request,
  // whose failure path would send them anyway.
  await page.close();
  await expectEachOnce(list);
  await close();
});

test('events a hidden tab sent before the settings arrived are not sent again once they do', { timeout: 90_000 }, async () => {
  const { gate, page, close } = await openThroughGate({ holdSettingsMs: 3_000 });
  await recordDeliveries(page);
  const list = people('hidden-early', 2);
  await identifyAll(page, list);
  await hide(page);
  await expectEachOnce(list);
  // The settings arrive, the calls are mapped, and the flush timer passes.
  await page.evaluate(() => window.analytics.ready());
  await new Promise((r) => setTimeout(r, 6_000));
  const ids = await page.evaluate(() => window.deliveredIds);
  assert.equal(ids.length, 2, `two deliveries reported: ${JSON.stringify(ids)}`);
  assert.deepEqual(gate.accepted().sort(), [...ids].sort(), 'each event went to the proxy once');
  assert.deepEqual(page.problems, []);
  await close();
});

test('a proxy that never answers the settings request: calls still settle and events are sent unfiltered', { timeout: 90_000 }, async () => {
  const { page, close } = await openThroughGate({ holdSettingsMs: Infinity });
  const list = people('no-settings', 2);
  const results = await page.evaluate((list) => Promise.all(list.map((p) =>
    window.analytics.identify(p.id, { name: p.name, email: p.email }))), list);
  assert.deepEqual(results.map((r) => r.queued), [true, true]);
  await expectEachOnce(list);
  assert.deepEqual(page.problems, []);
  await close();
});

test('circular, hugely shared or too deep values are refused at the call; the other events are delivered', { timeout: 90_000 }, async () => {
  const { gate, page, close } = await openThroughGate();
  const list = people('values', 1);
  await identifyAll(page, list);
  const refused = await page.evaluate(async () => {
    const node = { tag: 'div' };
    node.parent = node;
    node.firstChild = node;
    let shared = { leaf: 1 };
    for (let i = 0; i < 40; i++) shared = { left: shared, right: shared };
    let deep = { leaf: 1 };
    for (let i = 0; i < 35; i++) deep = { d: deep };
    const invalid = [];
    window.analytics.on('invalid', (e) => invalid.push(e.invalid));
    const results = [
      await window.analytics.track('Clicked', { node }),
      await window.analytics.track('Shared', { shared }),
      await window.analytics.track('Deep', { deep }),
    ];
    return { results: results.map((r) => r.invalid ?? 'queued'), invalid };
  });
  assert.match(refused.results[0], /circular reference/);
  assert.match(refused.results[1], /more values than one event can carry/);
  assert.match(refused.results[2], /nests \d+ levels deep/);
  assert.deepEqual(refused.invalid, refused.results);
  await page.evaluate(() => window.analytics.flush());
  await expectEachOnce(list);
  assert.ok(gate.batches.every((b) => b.status < 300), 'no batch refused');
  assert.deepEqual(page.problems, []);
  await close();
});

test('a numeric options.messageId is sent as its text, and two such events are both delivered', async () => {
  const { gate, page, close } = await openThroughGate();
  const list = people('numbered', 2);
  const ids = await page.evaluate(async (list) => {
    const results = [];
    for (const [i, p] of list.entries()) {
      results.push(await window.analytics.identify(p.id, { name: p.name, email: p.email }, { messageId: 7 + i }));
    }
    await window.analytics.flush();
    return results.map((r) => r.messageId);
  }, list);
  assert.deepEqual(ids, ['7', '8']);
  await expectEachOnce(list);
  assert.deepEqual(gate.accepted().sort(), ['7', '8']);
  await close();
});

test('an identify refused for its traits\' size leaves the user\'s traits alone, on this page and the next', async () => {
  const { page, close } = await openThroughGate();
  const [person] = people('oversized', 1);
  const results = await page.evaluate(async (p) => {
    // Its callback reads the user: the refusal must have let go of it.
    let seen;
    const big = await window.analytics.identify(p.id, { bio: 'x'.repeat(40_000) }, () => { seen = window.analytics.user().traits(); });
    if (!seen) throw new Error('the refused call\'s callback could not read the user');
    const small = await window.analytics.identify(p.id, { name: p.name, email: p.email });
    return [big.invalid ?? 'queued', small.invalid ?? 'queued'];
  }, person);
  assert.match(results[0], /traits would be \d+ bytes of JSON/);
  assert.equal(results[1], 'queued');
  await page.reload();
  await page.waitForFunction(() => window.analytics && typeof window.analytics.identify === 'function');
  const later = await page.evaluate(async (id) => {
    const r = await window.analytics.identify(id, { plan: 'pro' });
    return { result: r.invalid ?? 'queued', traits: window.analytics.user().traits() };
  }, person.id);
  assert.equal(later.result, 'queued');
  assert.deepEqual(Object.keys(later.traits).sort(), ['email', 'name', 'plan']);
  await expectEachOnce([person]);
  assert.deepEqual(page.problems, []);
  await close();
});
