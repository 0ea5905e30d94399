// `npm start`: the whole stack on its embedded defaults (fake Zendesk, proxy,
// demo page), no credentials needed. Ctrl-C stops all of it.
//
// Addresses (override with the environment):
//   ZENDESK_FAKE_PORT (4010), PROXY_PORT (8787), DEMO_PORT (8080)

import { startStack, DEMO } from './stack.mjs';

const port = (name, fallback) => {
  const value = process.env[name] ?? String(fallback);
  if (!/^\d+$/.test(value)) {
    console.error(`${name}=${value} is not a port number; unset it or give a number such as ${fallback}`);
    process.exit(2);
  }
  return Number(value);
};

const ports = { fake: port('ZENDESK_FAKE_PORT', 4010), proxy: port('PROXY_PORT', 8787), demo: port('DEMO_PORT', 8080) };

let stack;
try {
  stack = await startStack({ ports, quiet: false });
} catch (e) {
  console.error(`could not start the stack: ${e.message}`);
  console.error('A port may be in use: set ZENDESK_FAKE_PORT, PROXY_PORT or DEMO_PORT to free ones.');
  process.exit(1);
}

console.log(`
  demo page     ${stack.pageUrl}
  proxy         ${stack.proxyUrl}   (write key: ${DEMO.writeKey})
  fake Zendesk  ${stack.fakeUrl}   (subdomain ${DEMO.subdomain}; Bearer ${DEMO.oauthToken})

  Try: curl -H 'Authorization: Bearer ${DEMO.oauthToken}' '${stack.fakeUrl}/api/v2/users/search.json?query=email:ada@example.com'
  Ctrl-C stops everything.
`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const { child } of [stack.fake, stack.proxy]) {
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`a server exited unexpectedly (${code ?? signal}); stopping the stack`);
      stop();
    }
  });
}
