// The web build (`zendesk-analytics/web`): the same API, plus `init()` that
// fetches and instantiates the wasm before `load()` can be called.
export * from './index.js';
/** Fetches and instantiates the wasm (next to the JS file unless a URL or module is given). */
export default function init(moduleOrPath?: string | URL | Request | BufferSource | WebAssembly.Module): Promise<unknown>;
