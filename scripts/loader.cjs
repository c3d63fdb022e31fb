'use strict';
// The loader of the bundles (built into every stub by scripts/build.mjs): runs
// a bundle dist/NAME.bundle.cjs with the V8 code cache dist/NAME.cache made at
// build time, so that node deserializes compiled functions instead of parsing
// and compiling them at every start. Every dist/NAME.cjs (and the CLI's first
// stage, dist/runts.cjs) holds a copy of this file and calls it with its module
// and require, which the bundle gets as its own (with __filename, __dirname):
// a copy, not a require of a shared file, saves node's module resolution and
// load of it (~0.5 ms) in every process.
//
// The cache is read-only data from the runts install dir (next to this file),
// never written at run time. It is used only when it was made by this node
// (version, V8, arch) from a byte-identical bundle: the cache file carries a
// copy of the source it was made from, compared with the bundle (V8's own
// check is the source length, its version and its flags), and only when the
// CRC-32 of V8's data matches the header: V8 does not checksum a code cache
// (release builds) and aborts the process on a damaged one. Anything else, or
// V8 rejecting it, falls back to a plain compile silently.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

// zlib's CRC-32 (node >= 20.15) without loading node:zlib and its streams (~1.5 ms): the
// binding the public function uses. process.binding is deprecated (a warning with
// --pending-deprecation only): none is shown for this one look-up.
function crc32Fn() {
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    const f = process.binding('zlib').crc32;
    if (typeof f === 'function') return (b) => f(b, 0) >>> 0;
  } catch { /* the public module, below */ } finally {
    process.noDeprecation = quiet;
  }
  const z = require('node:zlib');
  return typeof z.crc32 === 'function' ? (b) => z.crc32(b) >>> 0 : undefined;
}

function readCache(file, source) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const nl = buf.indexOf(10);
  if (nl < 0 || nl > 512) return undefined;
  let h;
  try {
    h = JSON.parse(buf.toString('latin1', 0, nl));
  } catch {
    return undefined;
  }
  if (h.node !== process.version || h.v8 !== process.versions.v8 || h.arch !== process.arch) return undefined;
  const start = nl + 1;
  if (h.source !== source.length || start + h.source > buf.length) return undefined;
  if (!source.equals(buf.subarray(start, start + h.source))) return undefined;
  const data = buf.subarray(start + h.source);
  const crc32 = crc32Fn();
  if (data.length === 0 || data.length !== h.data || !crc32 || crc32(data) !== h.crc32) return undefined;
  return data;
}

function load(mod, req, name) {
  const file = path.join(__dirname, `${name}.bundle.cjs`);
  const source = fs.readFileSync(file);
  const cachedData = readCache(path.join(__dirname, `${name}.cache`), source);
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source.toString('utf8')}\n})`;
  // (no import() in the bundles: a vm.Script has no loader for it without an experimental option)
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  // only in the build's warm runs (scripts/code-cache.cjs): nothing is kept otherwise
  globalThis[Symbol.for('runts.codeCacheRun')]?.push([name, script, source]);
  script.runInThisContext().call(mod.exports, mod.exports, req, mod, file, __dirname);
}
module.exports = load;
