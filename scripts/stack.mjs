// Starts the whole stack — fake Zendesk, proxy, demo page server — as child
// processes on 127.0.0.1, and learns each address from the first line the
// binary prints. Used by `npm start` (fixed default ports) and by the
// end-to-end tests (port 0: the OS picks a free port, so tests never collide).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { serveDemo } from './serve.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN_DIR = join(ROOT, 'target', 'debug');

export const DEMO = {
  writeKey: 'demo-write-key',
  subdomain: 'demo',
  email: 'agent@example.com',
  apiToken: 'demo-token',
  oauthToken: 'demo-oauth-token',
};

/** The binaries this process started and has not seen exit, with their output. */
const running = new Map();

/** The last lines each running binary printed: what a timed-out test shows. */
function recentOutput(lines = 25) {
  return [...running.values()]
    .map(({ name, output }) => `--- ${name}, last ${lines} lines:\n${output.slice(-lines).join('\n').replace(/\x1b\[[0-9;]*m/g, '')}`)
    .join('\n');
}

/**
 * Spawns `bin` with `args`/`env` and resolves once it prints
 * `... listening on http://ADDR`, with `{ url, child, output }`.
 * Rejects with the process output when it exits first or stays silent.
 */
export function startBinary(name, args = [], env = {}, { timeoutMs = 30_000, quiet = true } = {}) {
  // Quiet (a test): info, kept in memory for `eventually`'s timeout message;
  // printed (`npm start`): warnings only.
  const child = spawn(join(BIN_DIR, name), args, {
    cwd: ROOT,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? (quiet ? 'info' : 'warn'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  running.set(child, { name, output });
  child.once('exit', () => running.delete(child));
  const remember = (line) => {
    output.push(line);
    if (output.length > 500) output.shift();
    if (!quiet) console.log(`[${name}] ${line}`);
  };
  createInterface({ input: child.stderr }).on('line', remember);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not report its address within ${timeoutMs} ms:\n${output.join('\n')}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${name} (${e.message}); run \`npm run build\` first`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${output.join('\n')}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1], child, output });
      }
      remember(line);
    });
  });
}

/** Sends SIGTERM and waits for the process to exit (SIGKILL after `graceMs`). */
export function stopChild(child, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts fake Zendesk, proxy and demo page.
 * `ports`: `{fake, proxy, demo}` (0 = any free port). `fakeArgs`/`proxyEnv`
 * add options for a test (fault injection, settings); `proxyEnv` may be a
 * function of the fake's URL (for settings that point at it).
 */
export async function startStack({ ports = { fake: 0, proxy: 0, demo: 0 }, fakeArgs = [], proxyEnv = {}, quiet = true } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'zendesk-analytics-'));
  const started = [];
  try {
    const fake = await startBinary('zendesk-fake', ['--listen', `127.0.0.1:${ports.fake}`, ...fakeArgs], {}, { quiet });
    started.push(fake.child);
    const proxy = await startBinary(
      'zendesk-proxy',
      [],
      {
        PROXY_ADDR: `127.0.0.1:${ports.proxy}`,
        PROXY_DATABASE: join(dataDir, 'queue.db'),
        ZENDESK_URL: fake.url,
        ...(typeof proxyEnv === 'function' ? proxyEnv(fake.url) : proxyEnv),
      },
      { quiet },
    );
    started.push(proxy.child);
    const demo = await serveDemo({
      port: ports.demo,
      proxyUrl: proxy.url,
      writeKey: DEMO.writeKey,
      zendesk: { url: fake.url, authorization: demoAuthorization() },
    });
    return {
      fakeUrl: fake.url,
      proxyUrl: proxy.url,
      pageUrl: demo.url,
      fake,
      proxy,
      dataDir,
      async stop() {
        await demo.close();
        await Promise.all(started.map((c) => stopChild(c)));
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await Promise.all(started.map((c) => stopChild(c)));
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

/** `Authorization` header value the fake accepts for the demo account. */
export function demoAuthorization() {
  return `Bearer ${DEMO.oauthToken}`;
}

/** GETs a Zendesk API path on the fake with the demo credentials; returns parsed JSON. */
export async function zendeskGet(fakeUrl, path) {
  const response = await fetch(fakeUrl + path, { headers: { Authorization: demoAuthorization() } });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

/**
 * Polls `check` (async, returns a truthy value when done) every 100 ms until
 * `timeoutMs`; a timeout's error carries the running binaries' recent output.
 */
export async function eventually(check, { timeoutMs = 10_000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const result = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out waiting for ${what}; last result: ${result}\n${recentOutput()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
