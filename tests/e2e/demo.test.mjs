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
