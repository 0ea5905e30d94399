// A programmable HTTP gate in front of the real proxy, for the SDK's
// delivery tests: it forwards every request, records each batch it saw, and
// can answer in the proxy's place (503, 429 with Retry-After) or hold
// answers back, the way a struggling network or proxy would.

import http from 'node:http';

/**
 * Starts the gate on 127.0.0.1:0 in front of `target`. `gate.answer(req)` may
 * return `{status, headers}` to answer instead of the proxy,
 * `gate.holdMs` delays forwarded batch answers, and `gate.holdSettingsMs`
 * the settings answer (`Infinity`: it never comes).
 */
export async function startGate(target) {
  const gate = {
    batches: [], // { messageIds, status, body }
    answer: () => null,
    holdMs: 0,
    holdSettingsMs: 0,
  };
  const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'Retry-After' };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const isBatch = req.method === 'POST' && req.url.startsWith('/v1/batch');
      let parsed;
      if (isBatch) {
        try { parsed = JSON.parse(body.toString()); } catch { parsed = { batch: [] }; }
      }
      const own = isBatch ? gate.answer(req) : null;
      if (own) {
        gate.batches.push({ messageIds: parsed.batch.map((e) => e.messageId), status: own.status, body: parsed });
        res.writeHead(own.status, { ...cors, 'content-type': 'application/json', ...(own.headers ?? {}) });
        res.end('{"success":false}');
        return;
      }
      if (isBatch && gate.holdMs) await new Promise((r) => setTimeout(r, gate.holdMs));
      if (req.url.endsWith('/settings') && gate.holdSettingsMs) {
        if (gate.holdSettingsMs === Infinity) return;
        await new Promise((r) => setTimeout(r, gate.holdSettingsMs));
      }
      const upstream = http.request(new URL(req.url, target), { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (up) => {
        const answer = [];
        up.on('data', (c) => answer.push(c));
        up.on('end', () => {
          if (isBatch) gate.batches.push({ messageIds: parsed.batch.map((e) => e.messageId), status: up.statusCode, body: parsed });
          res.writeHead(up.statusCode, { ...up.headers, ...cors });
          res.end(Buffer.concat(answer));
        });
      });
      upstream.on('error', () => { res.writeHead(502, cors); res.end(); });
      upstream.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  gate.url = `http://127.0.0.1:${server.address().port}`;
  gate.close = () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); });
  /** Every messageId the proxy accepted (2xx). */
  gate.accepted = () => gate.batches.filter((b) => b.status < 300).flatMap((b) => b.messageIds);
  return gate;
}

/** Users with this email in the fake Zendesk. */
export async function usersByEmail(zendeskGet, fakeUrl, email) {
  const { users } = await zendeskGet(fakeUrl, `/api/v2/users/search.json?query=${encodeURIComponent(`email:${email}`)}`);
  return users;
}

/**
 * A customer's site on 127.0.0.1:0: `pages[path]` is `{html, headers}`, and
 * `/pkg/…` serves the built SDK. (A real server, not a Playwright route:
 * Chromium refuses fetches from route-fulfilled pages to loopback addresses.)
 */
export async function serveCustomerSite(root, pages) {
  const { readFile } = await import('node:fs/promises');
  const path = await import('node:path');
  const server = http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost');
    const page = pages[pathname];
    if (page) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...(page.headers ?? {}) });
      res.end(page.html);
      return;
    }
    const file = path.normalize(pathname);
    if (file.startsWith('/pkg/') && !file.includes('..')) {
      try {
        const body = await readFile(path.join(root, file));
        res.writeHead(200, { 'content-type': file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' });
        res.end(body);
        return;
      } catch { /* 404 below */ }
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}
