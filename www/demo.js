// The demo page: loads the SDK, wires the forms to analytics.* calls, and
// shows what the mapping core produced for each call.
import init, { load } from './pkg/web/zendesk_analytics.js';

const { proxyUrl, writeKey } = window.ZENDESK_ANALYTICS_CONFIG ?? {};
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
document.getElementById('flush').addEventListener('click', () => call('flush()', async () => ({ flushed: await window.analytics.flush() ?? true })));
document.getElementById('reset').addEventListener('click', () => call('reset()', async () => ({ reset: (window.analytics.reset?.(), true) })));
document.getElementById('clear').addEventListener('click', () => log.replaceChildren());

try {
  await init();
  window.analytics = await load({ writeKey, proxyUrl });
  status.textContent = `SDK loaded; sending to ${proxyUrl} with write key ${writeKey}.`;
} catch (e) {
  status.textContent = `The SDK could not start: ${e?.message ?? e}`;
  status.classList.add('error');
}
