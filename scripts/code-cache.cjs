'use strict';
// Build-time only (scripts/build.mjs): preloaded with `node -r` into a warm
// run of a runts bundle; at exit, writes dist/NAME.cache for every bundle the
// run loaded, from its script after the run, so that the functions the run
// compiled lazily are in it. A cache that was loaded is extended: warm runs
// one after another accumulate. Format (read by scripts/loader.cjs): one JSON
// header line (node, V8, arch, lengths, CRC-32 of the data), the bundle's source, V8's cached data.
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const dist = process.env.RUNTS_CODE_CACHE_DIST;
// the loader (scripts/loader.cjs, copied into every stub) lists here what it ran
const loaded = (globalThis[Symbol.for('runts.codeCacheRun')] = []);
process.on('exit', () => {
  for (const [name, script, source] of loaded) {
    const data = script.createCachedData();
    // crc32: the loader checks V8's data with it (V8 aborts on a damaged cache); node >= 20.15 has zlib.crc32
    const crc32 = zlib.crc32?.(data);
    if (crc32 === undefined) continue;
    const header = JSON.stringify({ node: process.version, v8: process.versions.v8, arch: process.arch, source: source.length, data: data.length, crc32: crc32 >>> 0 });
    const file = path.join(dist, `${name}.cache`);
    fs.writeFileSync(`${file}.tmp`, Buffer.concat([Buffer.from(`${header}\n`, 'latin1'), source, data]), { mode: 0o644 });
    fs.renameSync(`${file}.tmp`, file);
  }
});
