// What a web team sees in Zendesk after calling the SDK in a real page: each
// kind of call goes page → wasm SDK (mapped in the browser) → proxy (mapped
// again) → fake Zendesk, and is read back through Zendesk's own API.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, zendeskGet, eventually } from './stack.mjs';
import { launchBrowser, openPage } from './browser.mjs';

// The demo write key with every track event allowed (ticket events are
// opt-in), custom fields created on demand, email changes made primary, and
// Zendesk Connect on (its API is served by the fake too).
const CONFIG = `
[write_keys."demo-write-key".settings.zendesk]
subdomain = "demo"
events = ["*"]
createMissingCustomFields = true
updatePrimaryEmail = true

[write_keys."demo-write-key".settings.connect]
publicKey = "pk-demo"
`;

let configDir;
let stack;
let browser;
let page;

before(async () => {
  configDir = mkdtempSync(join(tmpdir(), 'zendesk-analytics-config-'));
  const configFile = join(configDir, 'proxy.toml');
  writeFileSync(configFile, CONFIG);
  stack = await startStack({
    proxyEnv: (fakeUrl) => ({ ZENDESK_PROXY_CONFIG: configFile, CONNECT_URL: fakeUrl, CONNECT_API_KEY: 'demo-connect-key' }),
  });
  browser = await launchBrowser();
  page = await openPage(browser, stack.pageUrl);
  await page.waitForFunction(() => window.analytics && typeof window.analytics.identify === 'function');
});

after(async () => {
  await browser?.close();
  await stack?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

/** Runs `calls` (a function of `analytics`, as source text) in the page, then flushes. */
async function inPage(calls) {
  await page.evaluate(async (source) => {
    await new Function('analytics', `return (async () => { ${source} })()`)(window.analytics);
    await window.analytics.flush();
  }, calls);
}

const get = (path) => zendeskGet(stack.fakeUrl, path);

async function userByExternalId(externalId, what, check = () => true) {
  return eventually(async () => {
    const { users } = await get(`/api/v2/users/search.json?external_id=${encodeURIComponent(externalId)}`);
    return users.length === 1 && check(users[0]) && users[0];
  }, { what });
}

test('identify with custom traits becomes a user with snake_case user_fields', async () => {
  await inPage(`await analytics.identify('sdk-u1', { name: 'Grace Hopper', email: 'grace@example.com', favoriteColor: 'teal', 'Plan Tier': 'pro' });`);
  const user = await userByExternalId('sdk-u1', 'Grace Hopper with user fields', (u) => u.user_fields?.favorite_color === 'teal');
  assert.equal(user.name, 'Grace Hopper');
  assert.equal(user.user_fields.plan_tier, 'pro');
  const { user_fields: fields } = await get('/api/v2/user_fields.json');
  assert.ok(fields.some((f) => f.key === 'favorite_color'), 'the missing field was created first');
  assert.deepEqual(page.problems, []);
});

test('group becomes an organization with its fields, and the calling user its member', async () => {
  await inPage(`
    await analytics.identify('sdk-u2', { name: 'Peter Gibbons', email: 'peter@initech.example' });
    await analytics.group('initech-1', { name: 'Initech', industry: 'Technology', employees: 329 });`);
  const organization = await eventually(async () => {
    const { organizations } = await get('/api/v2/organizations/search.json?external_id=initech-1');
    return organizations.length === 1 && organizations[0];
  }, { what: 'the Initech organization' });
  assert.equal(organization.name, 'Initech');
  assert.equal(organization.organization_fields.industry, 'Technology');
  const user = await userByExternalId('sdk-u2', 'Peter Gibbons');
  const memberships = await eventually(async () => {
    const { organization_memberships: list } = await get(`/api/v2/users/${user.id}/organization_memberships.json`);
    return list.length > 0 && list;
  }, { what: "Peter's membership" });
  assert.deepEqual(memberships.map((m) => m.organization_id), [organization.id]);
});

test('track becomes a user event on the user, with its properties', async () => {
  await inPage(`
    await analytics.identify('sdk-u3', { name: 'Ada Lovelace', email: 'ada@example.com' });
    await analytics.track('Order Completed', { order_id: 'o-17', revenue: 42 });`);
  const user = await userByExternalId('sdk-u3', 'Ada Lovelace');
  const events = await eventually(async () => {
    const { data } = await get(`/api/v2/users/${user.id}/events`);
    return data.length > 0 && data;
  }, { what: 'the Order Completed user event' });
  assert.equal(events.length, 1);
  assert.equal(events[0].type, 'Order Completed');
  assert.equal(events[0].properties.order_id, 'o-17');
});

test('a call made from a callback or a listener, or through a detached method, reaches Zendesk too', async () => {
  // The callback and the listener run inside the call that triggers them.
  await inPage(`
    await analytics.identify('sdk-u4', { name: 'Mary Jackson', email: 'mary@example.com' });
    let fromCallback, fromListener;
    const listener = () => { fromListener = analytics.track('From Listener'); };
    analytics.on('invalid', listener);
    await analytics.track('Outer', {}, {}, () => { fromCallback = analytics.track('From Callback'); });
    await analytics.track();
    analytics.off('invalid', listener);
    const { track } = analytics;
    await Promise.all([fromCallback, fromListener, track('Detached')]);`);
  const user = await userByExternalId('sdk-u4', 'Mary Jackson');
  const events = await eventually(async () => {
    const { data } = await get(`/api/v2/users/${user.id}/events`);
    return data.length >= 4 && data;
  }, { what: 'the four user events' });
  assert.deepEqual(events.map((e) => e.type).sort(), ['Detached', 'From Callback', 'From Listener', 'Outer']);
  assert.deepEqual(page.problems, []);
});

test('a refused call tells its callback why, as every call does', async () => {
  const reasons = await page.evaluate(async () => {
    const reasons = [];
    await window.analytics.track(null, {}, {}, (result) => reasons.push(result.invalid));
    await window.analytics.alias(null, null, {}, (result) => reasons.push(result.invalid));
    return reasons;
  });
  assert.equal(reasons.length, 2, 'both callbacks ran');
  assert.match(reasons[0], /track\(\) needs an event name/);
  assert.match(reasons[1], /alias\(\) needs the new userId/);
});

test('every method of the analytics object does its own job', async () => {
  // The page calls a JS facade whose methods enter the wasm by index: a name
  // paired with the wrong index would do another method's job.
  const logged = [];
  const onConsole = (message) => logged.push(message.text());
  page.on('console', onConsole);
  const seen = await page.evaluate(async () => {
    const a = window.analytics;
    const seen = {};
    seen.readyCalledBack = await new Promise((resolve) => a.ready(() => resolve(true)));
    seen.setAnonymousId = a.setAnonymousId('anon-facade');
    seen.anonymousId = a.user().anonymousId();
    await a.identify('facade-user', { plan: 'pro' });
    seen.userId = a.user().id();
    seen.userTraits = a.user().traits();
    await a.group('facade-group', { seats: 3 });
    seen.groupId = a.group().id();
    seen.groupTraits = a.group().traits();
    await a.flush();
    const delivered = [];
    const listener = (payload) => delivered.push(...payload.messageIds);
    a.on('delivered', listener);
    a.debug(true);
    const { messageId } = await a.track('Facade Checked');
    seen.pageResult = await a.page('Docs', 'Facade');
    a.debug(false);
    await a.flush();
    a.off('delivered', listener);
    seen.deliveredOwnEvent = delivered.includes(messageId);
    await a.track('After Off');
    await a.flush();
    seen.deliveredAfterOff = delivered.length;
    a.reset();
    seen.userIdAfterReset = a.user().id() ?? null;
    seen.anonymousIdChanged = a.user().anonymousId() !== 'anon-facade';
    return seen;
  });
  page.off('console', onConsole);
  assert.equal(seen.readyCalledBack, true);
  assert.equal(seen.setAnonymousId, 'anon-facade');
  assert.equal(seen.anonymousId, 'anon-facade');
  assert.equal(seen.userId, 'facade-user');
  assert.deepEqual(seen.userTraits, { plan: 'pro' });
  assert.equal(seen.groupId, 'facade-group');
  assert.deepEqual(seen.groupTraits, { seats: 3 });
  assert.equal(seen.deliveredOwnEvent, true, 'on() heard the delivery of the tracked event');
  // Page calls map to nothing in Zendesk: dropped in the browser, never delivered.
  assert.match(seen.pageResult.dropped, /page calls are not sent to Zendesk/);
  assert.equal(seen.deliveredAfterOff, 1, 'off() removed the listener: only the tracked event was heard');
  assert.equal(seen.userIdAfterReset, null);
  assert.equal(seen.anonymousIdChanged, true);
  const mappingLogs = logged.filter((line) => /^zendesk-analytics (track|page)\b/.test(line));
  assert.equal(mappingLogs.length, 2, `debug(true) logged the track and page mappings, debug(false) nothing more: ${logged.join(' | ')}`);
});

test('alias moves the Zendesk user to the new userId', async () => {
  await inPage(`
    await analytics.identify('sdk-old', { name: 'Homer Simpson', email: 'homer@example.com' });
    await analytics.alias('sdk-new', 'sdk-old');`);
  const user = await userByExternalId('sdk-new', 'the user under the new userId');
  assert.equal(user.email, 'homer@example.com');
  const { users: old } = await get('/api/v2/users/search.json?external_id=sdk-old');
  assert.equal(old.length, 0, 'no user is left under the previous userId');
});

test('a contact form\'s Ticket Created opens one ticket for the visitor, with its first comment', async () => {
  await inPage(`
    await analytics.reset();
    await analytics.track('Ticket Created', {
      subject: 'Export question', description: 'How do I export my data?',
      requester_email: 'vera@example.com', requester_name: 'Vera Visitor', tags: ['contact-form'],
    });`);
  const requester = await eventually(async () => {
    const { users } = await get(`/api/v2/users/search.json?query=${encodeURIComponent('email:vera@example.com')}`);
    return users.length === 1 && users[0];
  }, { what: 'the requester Vera Visitor' });
  const tickets = await eventually(async () => {
    const { tickets: list } = await get(`/api/v2/users/${requester.id}/tickets/requested.json`);
    return list.length > 0 && list;
  }, { what: "Vera's ticket" });
  assert.equal(tickets.length, 1);
  assert.equal(tickets[0].subject, 'Export question');
  assert.equal(tickets[0].description, 'How do I export my data?');
  assert.deepEqual(tickets[0].tags, ['contact-form']);
});

test('Zendesk Connect gets the person (name split, attributes) and their events', async () => {
  await inPage(`
    await analytics.identify('sdk-connect', { name: 'Katherine Johnson', email: 'katherine@example.com', team: 'Flight Research' });
    await analytics.track('Launched Rocket', { vehicle: 'Friendship 7' });`);
  const person = await eventually(async () => {
    const response = await fetch(`${stack.fakeUrl}/__fake/connect/users/sdk-connect`);
    return response.ok && (await response.json());
  }, { what: 'the Connect user' });
  assert.equal(person.first_name, 'Katherine');
  assert.equal(person.last_name, 'Johnson');
  assert.equal(person.email, 'katherine@example.com');
  assert.equal(person.attributes.team, 'Flight Research');
  const events = await eventually(async () => {
    const { events: list } = await (await fetch(`${stack.fakeUrl}/__fake/connect/events?user_id=sdk-connect`)).json();
    return list.length > 0 && list;
  }, { what: 'the Connect event' });
  assert.equal(events[0].event, 'Launched Rocket');
  assert.equal(events[0].properties.vehicle, 'Friendship 7');
});
