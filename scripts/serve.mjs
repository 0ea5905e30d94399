// The demo page server: www/ at `/`, the built SDK (pkg/) at `/pkg/`, and
// `/config.js` telling the page where the proxy is. The proxy is a separate
// process, so the page talks to it cross-origin exactly as a customer's site
// would. With `zendesk` (the demo's fake Zendesk), `/zendesk/api/v2/…` GETs
// are forwarded to it with the demo token, so the page can show what landed
// there — the token stays in this server, never in the page.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
};

/** Maps a URL path to a file under www/ or pkg/, refusing anything outside them. */
function resolvePath(urlPath) {
  const path = normalize(decodeURIComponent(urlPath)).replace(/^([/\\])+/, '');
  if (path.split(/[/\\]/).includes('..')) return null;
  if (path.startsWith('pkg/')) return join(ROOT, path);
  return join(ROOT, 'www', path === '' ? 'index.html' : path);
}

/** Read-only: the page may look at the fake Zendesk, not change it. */
async function forwardToZendesk({ url, authorization }, method, pathAndQuery, response) {
  if (method !== 'GET') {
    response.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET' });
    response.end('the demo only reads from Zendesk\n');
    return;
  }
  try {
    const answer = await fetch(url + pathAndQuery, { headers: { Authorization: authorization } });
    response.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json', 'Cache-Control': 'no-store' });
    response.end(Buffer.from(await answer.arrayBuffer()));
  } catch (e) {
    response.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end(`the fake Zendesk did not answer: ${e.message}\n`);
  }
}

/**
 * Serves the demo on 127.0.0.1:`port` (0 = any free port).
 * `headers(pathname)` may add response headers (tests set a CSP this way).
 */
export function serveDemo({ port = 0, host = '127.0.0.1', proxyUrl, writeKey, zendesk, headers = () => ({}) }) {
  const config = `window.ZENDESK_ANALYTICS_CONFIG = ${JSON.stringify({ proxyUrl, writeKey, zendeskView: Boolean(zendesk) })};\n`;
  const server = createServer(async (request, response) => {
    const { pathname, search } = new URL(request.url, 'http://localhost');
    const extra = headers(pathname);
    if (zendesk && pathname.startsWith('/zendesk/api/v2/')) {
      await forwardToZendesk(zendesk, request.method, pathname.slice('/zendesk'.length) + search, response);
      return;
    }
    if (pathname === '/config.js') {
      response.writeHead(200, { 'Content-Type': TYPES['.js'], 'Cache-Control': 'no-store', ...extra });
      response.end(config);
      return;
    }
    const file = resolvePath(pathname);
    try {
      if (!file) throw new Error('outside the served folders');
      const body = await readFile(file);
      response.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Cache-Control': 'no-store',
        ...extra,
      });
      response.end(body);
    } catch {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(`not found: ${pathname}\n`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolve({
        url: `http://${host}:${actual}`,
        server,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}
