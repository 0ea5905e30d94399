// Reads `npm pack --dry-run --json` on stdin; fails when a file the package
// needs is missing from it (see package.sh).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const [pack] = JSON.parse(readFileSync(0, 'utf8'));
const packed = new Set(pack.files.map((f) => f.path));
const manifest = JSON.parse(readFileSync('package.json', 'utf8'));

const needed = new Set();
const targets = (entry) => (typeof entry === 'string' ? [entry] : Object.values(entry).flatMap(targets));
for (const target of targets(manifest.exports)) needed.add(path.normalize(target));
// Everything the build emitted next to the glue: the wasm, the bundler's
// second module, the wasm-bindgen snippets the glue imports.
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
for (const dir of ['pkg/web', 'pkg/bundler']) {
  for (const file of walk(dir)) if (/\.(js|wasm)$/.test(file)) needed.add(file);
}

const missing = [...needed].filter((f) => !packed.has(f));
if (missing.length) {
  console.error(`the npm package would ship without: ${missing.join(', ')}; list them under "files" in package.json (and check that no .gitignore/.npmignore in their folder excludes them)`);
  process.exit(1);
}
console.log(`npm package: ${packed.size} files, everything the exports map and the glue need is in it`);
