// The demo page: loads the SDK, wires the forms to analytics.* calls, and
// shows what the mapping core produced for each call.
import init, { load } from './pkg/web/zendesk_analytics.js';

const { proxyUrl, writeKey, zendeskView } = window.ZENDESK_ANALYTICS_CONFIG ?? {};
const status = document.getElementById('status');
const log = document.getElementById('log');

function parseJson(text, what) {
  try {
    return text.trim() === '' ? {} : JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${e.message}`);
  }
}

function show(title, result) {
  const item = document.createElement('li');
  const heading = document.createElement('div');
  heading.className = 'title';
  heading.textContent = title;
  item.append(heading);
  const pre = document.createElement('pre');
  const verdict = document.createElement('div');
  verdict.className = 'verdict';
  if (result instanceof Error) {
    item.classList.add('invalid');
    verdict.textContent = `error: ${result.message}`;
  } else if (result?.invalid) {
    item.classList.add('invalid');
    verdict.textContent = `invalid, not sent: ${result.invalid}`;
  } else if (result?.dropped) {
    item.classList.add('skipped');
    verdict.textContent = `not sent: ${result.dropped}`;
  } else if (result?.mapping) {
    verdict.textContent = 'queued for the proxy';
  }
  if (verdict.textContent) item.append(verdict);
  if (!(result instanceof Error)) {
    pre.textContent = JSON.stringify(result?.mapping ?? result, null, 2);
    item.append(pre);
  }
  log.prepend(item);
}

async function call(title, run) {
  try {
    show(title, await run());
  } catch (e) {
    show(title, e instanceof Error ? e : new Error(String(e)));
  }
}

const forms = {
  identify: (f) => call(`identify(${f.userId.value})`, () => window.analytics.identify(f.userId.value || undefined, parseJson(f.traits.value, 'traits'))),
  track: (f) => call(`track(${f.event.value})`, () => window.analytics.track(f.event.value, parseJson(f.properties.value, 'properties'))),
  group: (f) => call(`group(${f.groupId.value})`, () => window.analytics.group(f.groupId.value || undefined, parseJson(f.traits.value, 'traits'))),
  alias: (f) => call(`alias(${f.userId.value}, ${f.previousId.value})`, () => window.analytics.alias(f.userId.value, f.previousId.value || undefined)),
};

for (const [id, handler] of Object.entries(forms)) {
  document.getElementById(id).addEventListener('submit', (event) => {
    event.preventDefault();
    handler(event.target.elements);
  });
}
// The "In Zendesk" panel: the demo server forwards these reads to the fake
// Zendesk with the demo token (the page never holds it).
const zendeskTables = {
  users: { path: '/api/v2/users.json', columns: ['id', 'name', 'email', 'external_id', 'user_fields'] },
  organizations: { path: '/api/v2/organizations.json', columns: ['id', 'name', 'external_id', 'organization_fields'] },
};

async function refreshZendesk() {
  if (!zendeskView) return;
  for (const [key, { path, columns }] of Object.entries(zendeskTables)) {
    const body = document.querySelector(`#zendesk-${key} tbody`);
    try {
      const answer = await fetch(`/zendesk${path}`);
      const records = (await answer.json())[key] ?? [];
      body.replaceChildren(...records.map((record) => {
        const row = document.createElement('tr');
        for (const column of columns) {
          const cell = document.createElement('td');
          const value = record[column];
          if (value !== null && typeof value === 'object') {
            cell.className = 'json';
            cell.textContent = Object.keys(value).length ? JSON.stringify(value) : '';
          } else {
            cell.textContent = value ?? '';
          }
          row.append(cell);
        }
        return row;
      }));
    } catch (e) {
      body.replaceChildren();
    }
  }
}

// Delivery is asynchronous: look again shortly after the proxy has the events.
const refreshSoon = () => [300, 1500].forEach((ms) => setTimeout(refreshZendesk, ms));

document.getElementById('flush').addEventListener('click', () =>
  call('flush()', async () => {
    const flushed = (await window.analytics.flush()) ?? true;
    refreshSoon();
    return { flushed };
  }));
document.getElementById('refresh').addEventListener('click', refreshZendesk);
document.getElementById('reset').addEventListener('click', () => call('reset()', async () => ({ reset: (window.analytics.reset?.(), true) })));
document.getElementById('clear').addEventListener('click', () => log.replaceChildren());

try {
  await init();
  window.analytics = await load({ writeKey, proxyUrl });
  status.textContent = `SDK loaded; sending to ${proxyUrl} with write key ${writeKey}.`;
  if (zendeskView) {
    document.getElementById('zendesk').hidden = false;
    window.analytics.on?.('delivered', refreshSoon);
    // Zendesk-side work (retries, later operations of a call) lands later too.
    setInterval(() => document.visibilityState === 'visible' && refreshZendesk(), 3000);
    refreshZendesk();
  }
} catch (e) {
  status.textContent = `The SDK could not start: ${e?.message ?? e}`;
  status.classList.add('error');
}
