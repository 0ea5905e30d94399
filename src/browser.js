// The SDK's HTTP requests, as one call from the wasm: what would otherwise be
// a Promise chain crossing the JS boundary at every step (fetch, status,
// headers, body). Every outcome is a settled Promise, never a throw.

/**
 * Requests `url`: a GET, or a POST of `body` (`keepalive` on page exit).
 * Resolves to `[status, Retry-After header or null, body text]`; rejects
 * with the error when the request fails. On page exit, a keepalive fetch the
 * browser refuses at once (over its budget) goes by `sendBeacon` instead,
 * and `undefined` is returned: no outcome will be known.
 */
export function request(url, body, keepalive) {
  try {
    return fetch(url, body === undefined ? undefined : { method: 'POST', body, keepalive }).then((response) =>
      response.text().then(
        (text) => [response.status, response.headers.get('Retry-After'), text],
        () => [response.status, null, ''],
      ),
    );
  } catch (error) {
    if (!keepalive) return Promise.reject(error);
    try {
      navigator.sendBeacon(url, body);
    } catch {
      // Nothing more can be done for a page that is going away.
    }
  }
}
