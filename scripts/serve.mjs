// The demo page server: www/ at `/`, the built SDK (pkg/) at `/pkg/`, and
// `/config.js` telling the page where the proxy is. Static files only; the
// proxy is a separate process, so the page talks to it cross-origin exactly
// as a customer's site would.

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

/**
 * Serves the demo on 127.0.0.1:`port` (0 = any free port).
 * `headers(pathname)` may add response headers (tests set a CSP this way).
 */
export function serveDemo({ port = 0, host = '127.0.0.1', proxyUrl, writeKey, headers = () => ({}) }) {
  const config = `window.ZENDESK_ANALYTICS_CONFIG = ${JSON.stringify({ proxyUrl, writeKey })};\n`;
  const server = createServer(async (request, response) => {
    const { pathname } = new URL(request.url, 'http://localhost');
    const extra = headers(pathname);
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
