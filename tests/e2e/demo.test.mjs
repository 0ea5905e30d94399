// The demo page's debug panel: every call shows the operations the mapping
// core produced in the browser, or why nothing is sent.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './stack.mjs';
import { launchBrowser, openPage } from './browser.mjs';

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

test('the debug panel shows the Zendesk operations of a call, and the reason when a call is not sent', async () => {
  const page = await openPage(browser, stack.pageUrl);
  await page.waitForFunction(() => window.analytics);

  await page.click('#identify button');
  const first = page.locator('#log li').first();
  await first.waitFor();
  const operations = await first.textContent();
  assert.match(operations, /identify\(u1\)/);
  assert.match(operations, /"op": "upsert_user"/);
  assert.match(operations, /"email": "ada@example.com"/);
  assert.match(operations, /queued for the proxy/);

  // A different user: the first one's stored traits (with an email) do not carry over.
  await page.fill('#identify input[name=userId]', 'u2');
  await page.fill('#identify textarea[name=traits]', '{"name": "No Email"}');
  await page.click('#identify button');
  await page.waitForFunction(() => document.querySelectorAll('#log li').length === 2);
  const skipped = await page.locator('#log li').first().textContent();
  assert.match(skipped, /not sent: identify not sent to Zendesk: traits.email is missing/);

  await page.fill('#identify textarea[name=traits]', '{not json');
  await page.click('#identify button');
  await page.waitForFunction(() => document.querySelectorAll('#log li').length === 3);
  assert.match(await page.locator('#log li').first().textContent(), /traits is not valid JSON/);
  assert.deepEqual(page.problems, []);
});

test('the In Zendesk panel shows what landed in the fake Zendesk, and the page never holds its token', async () => {
  const page = await openPage(browser, stack.pageUrl);
  await page.waitForFunction(() => window.analytics);
  await page.fill('#identify input[name=userId]', 'panel-1');
  await page.fill('#identify textarea[name=traits]', '{"name": "Katherine Johnson", "email": "katherine@example.com"}');
  await page.click('#identify button');
  await page.fill('#group input[name=groupId]', 'nasa');
  await page.fill('#group textarea[name=traits]', '{"name": "NASA"}');
  await page.click('#group button');
  await page.click('#flush');

  const users = page.locator('#zendesk-users tbody');
  await users.locator('td', { hasText: 'katherine@example.com' }).waitFor({ timeout: 10_000 });
  assert.match(await users.textContent(), /Katherine Johnson.*panel-1/s);
  await page.locator('#zendesk-organizations tbody td', { hasText: /^NASA$/ }).waitFor({ timeout: 10_000 });

  const html = await page.content();
  assert.ok(!html.includes('demo-oauth-token'), 'the Zendesk token stays in the demo server');
  const write = await page.evaluate(async () => (await fetch('/zendesk/api/v2/users/create_or_update.json', { method: 'POST', body: '{}' })).status);
  assert.equal(write, 405, 'the page can only read from Zendesk');
  assert.deepEqual(page.problems, []);
});
