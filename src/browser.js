// Raw browser calls the wasm would otherwise make piece by piece across the
// JS boundary: HTTP requests, cookies and localStorage, the context, UUIDs,
// timestamps, console output, URI decoding, event listeners and Promise
// settling. Only the calls live here, the decisions stay in Rust. Nothing
// here throws: every outcome is a value (or a settled Promise).

/**
 * `f` made safe to call: what it returns, or `fallback` when it throws. The
 * fallbacks are shared between calls: the wasm only reads them.
 */
const guarded = (f, fallback) => (...args) => {
  try {
    return f(...args);
  } catch {
    return fallback;
  }
};

/**
 * Requests `url`: a GET, or a POST of `body` (`keepalive` on page exit).
 * Resolves to `[status, Retry-After header or null, body text]`; rejects
 * with the error when the request fails or times out. On page exit, a keepalive fetch the
 * browser refuses (all keepalive requests in flight share a 64 KB budget, so
 * a later chunk can be over it) goes by `sendBeacon` as well; the Promise
 * still rejects, so the events stay queued until a send is confirmed (the
 * proxy ignores a messageId it already has). Where `fetch` itself is missing,
 * `undefined` is returned: no outcome will be known.
 */
export function request(url, body, keepalive) {
  // If it throws, nothing more can be done for a page that is going away.
  const beacon = guarded(() => navigator.sendBeacon(url, body));
  try {
    // A proxy that takes the connection and never answers must not hold the
    // SDK forever: the settings are given up on after 10 s, a batch after
    // 30 s (and retried). Not on page exit: that request outlives the page.
    const signal = keepalive ? undefined : globalThis.AbortSignal?.timeout?.(body === undefined ? 10_000 : 30_000);
    const answer = fetch(url, body === undefined ? { signal } : { method: 'POST', body, keepalive, signal }).then((response) => {
      // Read before the body: a body that fails to arrive must not cost the 429's pause.
      const retryAfter = response.headers.get('Retry-After');
      return response.text().then(
        (text) => [response.status, retryAfter, text],
        () => [response.status, retryAfter, ''],
      );
    });
    return keepalive
      ? answer.catch((error) => {
          beacon();
          throw error;
        })
      : answer;
  } catch (error) {
    if (!keepalive) return Promise.reject(error);
    beacon();
  }
}

/**
 * `Object.entries(value)`; `[]` when listing them throws (a throwing getter
 * or Proxy trap in what the page passed us).
 */
export const entries = guarded(Object.entries, []);

/** `JSON.stringify(value)`; `undefined` when it throws (too deep, a throwing `toJSON`). */
export const jsonText = guarded(JSON.stringify);

/**
 * A copy of an array's items, holes as `undefined` (JSON writes them as
 * null); `[]` when reading them throws (a Proxy trap); `undefined` for
 * anything that is not an array.
 */
export const arrayItems = guarded(
  // By index, as JSON.stringify reads an array (not through its iterator).
  (value) => (Array.isArray(value) ? Array.prototype.slice.call(value) : undefined),
  [],
);

/**
 * What `JSON.stringify` writes in place of an object with a `toJSON` method
 * (a Date: its ISO string, or null when invalid; a URL; a Money or moment
 * object): that method's result. `undefined` when it has none or it threw.
 */
export const jsonReplacement = guarded((value) => (typeof value.toJSON === 'function' ? value.toJSON() : undefined));

/** `obj[key]` (`Reflect.get`); `undefined` when it throws or `obj` is no object. */
export const get = guarded(Reflect.get);

/** `JSON.parse(text)`; `undefined` when it is not JSON. */
export const parseJson = guarded(JSON.parse);

/** Calls the page's function `f` with `arg` (none when undefined); false when it threw. */
export const invoke = guarded((f, arg) => {
  if (arg === undefined) f.call(null);
  else f.call(null, arg);
  return true;
}, false);

/** A string property as it is, anything else as `''`. */
const text = (value) => (typeof value === 'string' ? value : '');

/**
 * The current page as Segment's `context.page`; `{}` where there is no
 * `location` (or reading it threw).
 */
export const pageContext = guarded(() => {
  const { href, pathname, search } = location;
  const { referrer, title } = globalThis.document ?? {};
  return { url: text(href), path: text(pathname), search: text(search), referrer: text(referrer), title: text(title) };
}, {});

/**
 * The value of cookie `name`, URI-decoded; `undefined` when it is absent,
 * empty, malformed, or the page's cookies are blocked.
 */
export function getCookie(name) {
  try {
    for (const pair of text(document.cookie).split(';')) {
      const trimmed = pair.trim();
      const at = trimmed.indexOf('=');
      if (at < 0 || trimmed.slice(0, at) !== name) continue;
      try {
        const value = decodeURIComponent(trimmed.slice(at + 1));
        if (value) return value;
      } catch {
        // A malformed escape: look for another cookie of that name.
      }
    }
  } catch {
    // Cookies blocked (a sandboxed iframe).
  }
}

/**
 * Writes cookie `name` (`max-age` in seconds, on `domain` when not empty);
 * false when the browser threw.
 */
export const setCookie = guarded((name, value, maxAge, domain) => {
  document.cookie = `${name}=${encodeURIComponent(value)}; path=/; max-age=${maxAge}; SameSite=Lax${domain ? `; domain=${domain}` : ''}`;
  return true;
}, false);

/** A random UUID v4; from `Math.random` where `crypto.randomUUID` is missing (insecure contexts). */
export function uuid() {
  try {
    return crypto.randomUUID();
  } catch {
    return 'xxxxxxxx-xxxx-4xxx-axxx-xxxxxxxxxxxx'.replace(/x/g, () => ((Math.random() * 16) | 0).toString(16));
  }
}

/** The current time as an ISO-8601 string. */
export function nowIso() {
  return new Date().toISOString();
}

/** Logs `zendesk-analytics: {message}` as a console warning. */
export const warn = guarded((message) => console.warn(`zendesk-analytics: ${message}`));

/**
 * What the context holds for the page's lifetime: `userAgent`, `locale`,
 * IANA `timezone` (left undefined where unknown).
 */
export function staticContext() {
  const context = {};
  try {
    context.userAgent = navigator.userAgent;
    context.locale = navigator.language;
  } catch {
    // No navigator (a worker without one).
  }
  try {
    context.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    // No Intl.
  }
  return context;
}

/** `localStorage.getItem(key)`; `null` when it is blocked. */
export const localGet = guarded((key) => localStorage.getItem(key), null);

/** `localStorage.setItem(key, value)`; false when blocked or over quota. */
export const localSet = guarded((key, value) => {
  localStorage.setItem(key, value);
  return true;
}, false);

/** `localStorage.removeItem(key)`, unless storage is blocked. */
export const localRemove = guarded((key) => localStorage.removeItem(key));

/** Calls `next` with `Promise.allSettled`'s record of `promise` once it has settled. */
export function settle(promise, next) {
  return Promise.allSettled([promise]).then(([result]) => next(result));
}

/**
 * A query-string value decoded (`+` is a space); with a malformed escape,
 * the raw text (spaces for `+`) rather than losing the value.
 */
function decodeQueryValue(text) {
  const spaced = text.replaceAll('+', ' ');
  return guarded(decodeURIComponent, spaced)(spaced);
}

/**
 * The campaign of a query string: its `utm_*` parameters (`utm_campaign`
 * as `name`, the others without the prefix), decoded by `decodeQueryValue`;
 * the leading `?`s are skipped and a parameter without `=` is none. No
 * prototype: `utm___proto__` is a member like any other.
 */
export function campaign(search) {
  const found = Object.create(null);
  for (const pair of search.replace(/^\?+/, '').split('&')) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at);
    if (at < 0 || key.length < 5 || !key.startsWith('utm_')) continue;
    found[key === 'utm_campaign' ? 'name' : key.slice(4)] = decodeQueryValue(pair.slice(at + 1));
  }
  return found;
}

/** The localStorage keys that start with `prefix`; none when it is blocked. */
export const localKeys = guarded(
  (prefix) => Array.from({ length: localStorage.length }, (_, i) => localStorage.key(i)).filter((key) => key?.startsWith(prefix)),
  [],
);

/** Calls `listener` on every `event` of the global `target` (`window`, `document`). */
export const listen = guarded((target, event, listener) => globalThis[target].addEventListener(event, listener));

/** Logs the mapping of a `kind` call to the console (`debug(true)`). */
export const logMapping = guarded((kind, mapping) => console.log('zendesk-analytics', kind, mapping));

/**
 * Calls each listener in `listeners[event]` (the `on()` lists the facade
 * keeps) with `payload`; one that throws is reported and the others still
 * run. The list is never changed in place (`on` and `off` replace it), so a
 * listener that calls them changes the next delivery event's listeners only.
 */
export function emit(listeners, event, payload) {
  for (const listener of listeners[event]) {
    if (!invoke(listener, payload)) warn('an on() listener threw; the other listeners still ran');
  }
}

/**
 * The analytics object `load()` returns (`window.analytics`). Each method is
 * one call of `call`, the SDK's single entry into the wasm, with the method's
 * index (the order of `METHODS` in src/analytics.rs) and its arguments. Arrow
 * functions: a method works detached from the object too. `on` and `off`
 * keep the page's listeners of `delivered`, `dropped` and `invalid` in
 * `listeners`, one list each in that order; listeners of any other name
 * would never run, so they are not kept.
 */
export function facade(call, listeners) {
  const method = (index) => (...args) => call([index, ...args]);
  const analytics = {};
  'identify track page group alias flush ready debug reset setAnonymousId _page'.split(' ').forEach((name, index) => {
    analytics[name] = method(index);
  });
  const lists = (name, change) => {
    const event = ['delivered', 'dropped', 'invalid'].indexOf(name);
    if (event >= 0) listeners[event] = change(listeners[event]);
  };
  analytics.on = (name, listener) => {
    if (typeof listener === 'function') lists(name, (list) => [...list, listener]);
  };
  // Without a listener (or with anything else), all of the event's.
  analytics.off = (name, listener) => {
    lists(name, (list) => list.filter((f) => typeof listener === 'function' && f !== listener));
  };
  // Live views of the identity; `id()`, `anonymousId()`, `traits()` are 11, 12, 13.
  const view = (group) => ({ id: () => call([11, group]), anonymousId: () => call([12]), traits: () => call([13, group]) });
  analytics.user = () => view(false);
  // `group()` with no arguments is no event: the wasm answers `undefined`, the view is returned.
  const group = analytics.group;
  analytics.group = (...args) => group(...args) ?? view(true);
  return analytics;
}
