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
const regexEscape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// An exact match of `pattern`, which must occur (else the glue is not what
// this script expects, and the build stops rather than ship a broken pair).
function replace(pattern, replacement, what) {
  const before = glue;
  glue = glue.replace(pattern, escape(replacement));
  if (glue === before) throw new Error(`minify-wasm-names: ${what} not found in ${gluePath}`);
}

// The pass gives every import module the one name "a": the glue's import
// object, `import0`, becomes the only module, and the functions the wasm
// imports straight from src/browser.js (those that need no conversion glue,
// each under a module entry of its own) become members of it.
const GLUE_MODULE = './zendesk_analytics_bg.js';
for (const [module, name, short] of mapping.imports) {
  if (module === GLUE_MODULE) {
    // The import object's keys: `__wbg_then_656f253a5dd7d8ea: function(…)`.
    replace(new RegExp(`(?<=^\\s+)${name}(?=:)`, 'm'), short, `import ${name}`);
    continue;
  }
  // `import * as import1 from "./snippets/…/src/browser.js"`, then its entry.
  const namespace = glue.match(new RegExp(`(?<=^import \\* as )import\\d+(?= from "${regexEscape(module)}"$)`, 'm'));
  if (!namespace) throw new Error(`minify-wasm-names: module ${module} not imported in ${gluePath}`);
  replace('const import0 = {\n', `const import0 = {\n        ${short}: ${namespace[0]}.${name},\n`, `import object for ${name}`);
  glue = glue.replace(new RegExp(`^\\s+"${regexEscape(module)}": import\\d+,\n`, 'gm'), '');
}
replace(`"${GLUE_MODULE}": import0`, `"a": import0`, `module ${GLUE_MODULE}`);
if (/^\s+"(?!a")[^"]+": import\d+,$/m.test(glue)) throw new Error(`minify-wasm-names: ${gluePath} hands the wasm a module it does not import`);

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
