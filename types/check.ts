// Compile-only check of the overloads in index.d.ts (tsc -p types): every
// call shape analytics.js accepts must type-check, and wrong ones must not.
import init, { load, type Analytics, type CallResult } from './web.js';

async function shapes(): Promise<void> {
  await init();
  const analytics: Analytics = load({ writeKey: 'demo-write-key', proxyUrl: 'http://127.0.0.1:8787' });
  const cb = (r: CallResult) => void r.messageId;

  await analytics.identify('u1', { name: 'Ada' }, { context: { ip: '1.2.3.4' } }, cb);
  await analytics.identify(42, { name: 'Ada' });
  await analytics.identify('u1', cb);
  await analytics.identify('u1', { name: 'Ada' }, cb);
  await analytics.identify({ email: 'ada@example.com' });
  await analytics.identify({ email: 'ada@example.com' }, { timestamp: new Date() }, cb);
  await analytics.identify(null, { email: 'ada@example.com' });

  await analytics.track('Signed Up', { plan: 'pro' }, { integrations: { Zendesk: false } }, cb);
  await analytics.track('Clicked', cb);
  await analytics.track({ event: 'Viewed', properties: { x: 1 } });

  await analytics.page();
  await analytics.page('Docs', 'Install', { section: 2 });
  await analytics.page('Home');
  await analytics.page({ path: '/x' }, { context: {} });
  await analytics.page(null, 'Pricing');
  await analytics.page(cb);

  const group = analytics.group();
  const groupId: string | null | undefined = group.id();
  void groupId;
  await analytics.group('org-1', { name: 'Acme' });
  await analytics.group(7, cb);

  await analytics.alias('new-id', 'old-id');
  await analytics.alias('new-id', cb);
  await analytics.alias(5, { context: {} });

  await analytics.flush();
  await analytics.ready(() => {});
  analytics.reset();
  const anonymousId: string | null = analytics.user().anonymousId();
  void anonymousId;
  analytics.setAnonymousId('anon');
  analytics.debug(true);
  analytics.on('dropped', (e) => void e.dropped.toUpperCase());
  analytics.on('delivered', (e) => void e.messageIds.length);
  analytics.off('dropped');

  // @ts-expect-error track needs an event name
  await analytics.track();
  // @ts-expect-error no such delivery event
  analytics.on('sent', () => {});
  // @ts-expect-error load needs a proxyUrl
  load({ writeKey: 'k' });
}
void shapes;
