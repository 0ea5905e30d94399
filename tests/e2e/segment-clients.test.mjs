// A client we did not write: Segment's own @segment/analytics-node sends to
// the proxy unchanged (Basic-auth write key, its batch format, its retries),
// and the result is checked through the fake Zendesk's API.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Analytics } from '@segment/analytics-node';
import { startBinary, stopChild, zendeskGet, eventually, DEMO } from './stack.mjs';

let fake;
let proxy;
let dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'segment-clients-'));
  fake = await startBinary('zendesk-fake', [], { ZENDESK_FAKE_ADDR: '127.0.0.1:0' });
  proxy = await startBinary('zendesk-proxy', [], {
    PROXY_ADDR: '127.0.0.1:0',
    PROXY_DATABASE: join(dataDir, 'queue.db'),
    ZENDESK_URL: fake.url,
  });
});

after(async () => {
  await Promise.all([proxy, fake].filter(Boolean).map(({ child }) => stopChild(child)));
  rmSync(dataDir, { recursive: true, force: true });
});

const byExternalId = (id) =>
  zendeskGet(fake.url, `/api/v2/users/search.json?external_id=${encodeURIComponent(id)}`);

test('@segment/analytics-node identifies become Zendesk users through the proxy', async () => {
  const analytics = new Analytics({ writeKey: DEMO.writeKey, host: proxy.url, flushAt: 3, maxRetries: 1 });
  const errors = [];
  analytics.on('error', (e) => errors.push(e));
  analytics.identify({ userId: 'node-1', traits: { name: 'Grace Hopper', email: 'grace@example.com' } });
  analytics.identify({ userId: 'node-2', traits: { firstName: 'Alan', lastName: 'Turing', email: 'alan@example.com' } });
  analytics.track({ userId: 'node-1', event: 'Compiler Shipped', properties: { version: 'A-0' } });
  analytics.identify({ userId: 'node-1', traits: { name: 'Grace Brewster Hopper', email: 'grace@example.com' } });
  await analytics.closeAndFlush({ timeout: 10_000 });
  assert.deepEqual(errors, [], 'the proxy refused something analytics-node sent');

  const grace = await eventually(async () => {
    const { users } = await byExternalId('node-1');
    return users.length === 1 && users[0].name === 'Grace Brewster Hopper' && users;
  }, { what: 'node-1 renamed in Zendesk' });
  assert.equal(grace[0].email, 'grace@example.com');
  const alan = await eventually(async () => {
    const { users } = await byExternalId('node-2');
    return users.length === 1 && users;
  }, { what: 'node-2 in Zendesk' });
  assert.equal(alan[0].name, 'Alan Turing');
});

test('a wrong write key from analytics-node is refused, not silently dropped', async () => {
  const analytics = new Analytics({ writeKey: 'not-a-key', host: proxy.url, maxRetries: 0 });
  const errors = [];
  analytics.on('error', (e) => errors.push(e));
  analytics.identify({ userId: 'node-3', traits: { name: 'Nobody', email: 'nobody@example.com' } });
  await analytics.closeAndFlush({ timeout: 10_000 });
  assert.ok(errors.length > 0, 'analytics-node saw no error for an unknown write key');
  const { users } = await byExternalId('node-3');
  assert.equal(users.length, 0);
});
