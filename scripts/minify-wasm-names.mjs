// Shortens the names between the web build's wasm and its JS glue.
//
// wasm-bindgen names every import after its JS function plus a 16-hex-digit
// hash (`__wbg_then_656f253a5dd7d8ea`), and its closure exports after their
// full Rust types: a few kilobytes in the wasm and again in the glue. Binaryen's
// minify-imports-and-exports-and-modules pass renames them all to one or two
// letters and prints the mapping, which this script applies to the glue.
//
//   node scripts/minify-wasm-names.mjs <wasm-opt> <module.wasm> <glue.js>
//
// Only for `--target web`, whose glue hands the wasm its imports as one object;
// the bundler target's imports are ES module paths, which must stay as they are.
// The export names are internal: `init()` is typed as `Promise<unknown>`
// (types/web.d.ts), so no page reads them.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';

const [wasmOpt, wasmPath, gluePath] = process.argv.slice(2);
const FEATURES = ['--enable-reference-types', '--enable-bulk-memory', '--enable-nontrapping-float-to-int',
  '--enable-sign-ext', '--enable-mutable-globals', '--enable-multivalue'];

const printed = execFileSync(wasmOpt, ['--minify-imports-and-exports-and-modules', ...FEATURES,
  wasmPath, '-o', `${wasmPath}.min`], { encoding: 'utf8' });
const mapping = JSON.parse(printed.slice(printed.indexOf('{')));

let glue = readFileSync(gluePath, 'utf8');
const escape = (s) => s.replace(/[$]/g, '$$$$');
// An exact match of `pattern`, which must occur (else the glue is not what
// this script expects, and the build stops rather than ship a broken pair).
function replace(pattern, replacement, what) {
  const before = glue;
  glue = glue.replace(pattern, escape(replacement));
  if (glue === before) throw new Error(`minify-wasm-names: ${what} not found in ${gluePath}`);
}

const modules = new Set();
for (const [module, name, short] of mapping.imports) {
  modules.add(module);
  // The import object's keys: `__wbg_then_656f253a5dd7d8ea: function(…)`.
  replace(new RegExp(`(?<=^\\s+)${name}(?=:)`, 'm'), short, `import ${name}`);
}
// Every import comes from the glue's one module object; the pass names it "a".
if (modules.size !== 1) throw new Error(`minify-wasm-names: expected one import module, got ${[...modules]}`);
const [module] = modules;
replace(`"${module}": import0`, `"a": import0`, `module ${module}`);

for (const [name, short] of mapping.exports) {
  // Exports the glue does not use (the abort hooks) need no rewrite.
  glue = glue.replace(new RegExp(`\\bwasm\\.${name}\\b`, 'g'), `wasm.${escape(short)}`);
}
// What must not be left: an export read under its old name. (The glue's own
// JS functions may share an export's name; esbuild renames those anyway.)
for (const [name] of mapping.exports) {
  if (new RegExp(`\\bwasm\\.${name}\\b|\\bwasm\\[`).test(glue)) {
    throw new Error(`minify-wasm-names: ${gluePath} still reads the export ${name} (or reads exports by key)`);
  }
}

writeFileSync(gluePath, glue);
renameSync(`${wasmPath}.min`, wasmPath);
