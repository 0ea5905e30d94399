// The walking skeleton, end to end: a page calls analytics.identify, the SDK
// maps it in wasm and sends it to the proxy, the proxy delivers it to (fake)
// Zendesk, and the user is there through Zendesk's own API.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, zendeskGet, eventually } from './stack.mjs';
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

const searchByEmail = (email) =>
  zendeskGet(stack.fakeUrl, `/api/v2/users/search.json?query=${encodeURIComponent(`email:${email}`)}`);

test('identify in the demo page creates the Zendesk user, and a second identify updates it', async () => {
  const page = await openPage(browser, stack.pageUrl);
  await page.waitForFunction(() => window.analytics && typeof window.analytics.identify === 'function');

  await page.evaluate(async () => {
    await window.analytics.identify('u1', { name: 'Ada Lovelace', email: 'ada@example.com' });
    await window.analytics.flush();
  });
  const created = await eventually(async () => {
    const { users } = await searchByEmail('ada@example.com');
    return users.length > 0 && users;
  }, { what: 'the user in Zendesk' });
  assert.equal(created.length, 1);
  assert.equal(created[0].name, 'Ada Lovelace');
  assert.equal(created[0].external_id, 'u1');

  await page.evaluate(async () => {
    await window.analytics.identify('u1', { name: 'Ada King', email: 'ada@example.com' });
    await window.analytics.flush();
  });
  const updated = await eventually(async () => {
    const { users } = await searchByEmail('ada@example.com');
    return users.length === 1 && users[0].name === 'Ada King' && users;
  }, { what: 'the user renamed to Ada King' });
  assert.equal(updated[0].id, created[0].id, 'the second identify updates the same user');

  const byExternalId = await zendeskGet(stack.fakeUrl, '/api/v2/users/search.json?external_id=u1');
  assert.equal(byExternalId.users.length, 1);
  assert.deepEqual(page.problems, []);
});

test('the page never sees a Zendesk credential', async () => {
  const page = await openPage(browser, stack.pageUrl);
  await page.waitForFunction(() => window.analytics && typeof window.analytics.identify === 'function');
  const settings = await (await fetch(`${stack.proxyUrl}/v1/projects/demo-write-key/settings`)).text();
  for (const secret of ['demo-oauth-token', 'demo-token']) {
    assert.ok(!settings.includes(secret), `settings served to browsers contain ${secret}`);
  }
  const html = await page.content();
  assert.ok(!html.includes('demo-oauth-token'));
});
