/**
 * The V8 code caches of the built bundles (scripts/build.mjs, scripts/loader.cjs):
 * - each bundle's cache is accepted by V8 when node runs as runts runs it
 *   (the CLI without flags, the init stage with its flags): otherwise the
 *   cache is dead weight;
 * - a cache is never used for a bundle that differs from the one it was made
 *   from, even with the same length (V8 itself checks only the length):
 *   running the edited bundle must run the edited code;
 * - a damaged cache is ignored, never a crash;
 * - running runts writes no cache (the caches are build output, read-only).
 * Needs a build (npm ci / node scripts/build.mjs), no root.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';

const DIST = path.resolve(__dirname, '../../dist');
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

/** The init stage's node flags, as create.ts passes them (defined into the bundle by the build). */
function initFlags(): string[] {
  const src = fs.readFileSync(path.join(DIST, 'cli.bundle.cjs'), 'utf8');
  const m = [...src.matchAll(/\[(?:"--[a-z0-9=-]+",?)+\]/g)].find((x) => x[0].includes('short-builtin'));
  return m ? (JSON.parse(m[0]) as string[]) : [];
}

/** Run `node FLAGS -e` loading the given stubs (each runs its bundle through its copy of scripts/loader.cjs); what V8 said of each cache. */
function rejected(flags: string[], stubs: string[]): Record<string, boolean> {
  // the loader lists what it ran under this symbol (the build's warm runs use it: scripts/code-cache.cjs)
  const script = `
    const loaded = (globalThis[Symbol.for('runts.codeCacheRun')] = []);
    process.on('exit', () => { process.exitCode = 0; require('fs').writeSync(3, JSON.stringify(Object.fromEntries(loaded.map(([n, s]) => [n, s.cachedDataRejected])))); });
    for (const s of ${JSON.stringify(stubs)}) { try { require(s); } catch {} }`;
  const r = spawnSync(process.execPath, [...flags, '-e', script], { env, stdio: ['ignore', 'ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(String(r.output[3]));
}

t.test('every bundle has a cache that V8 accepts under the flags runts runs it with', async (t) => {
  for (const name of ['cli', 'init', 'exec-init', 'help', 'validators']) {
    t.ok(fs.existsSync(path.join(DIST, `${name}.cache`)), `dist/${name}.cache exists`);
  }
  // the CLI's parts: the stubs of validators and help run nothing at load
  t.same(rejected([], [path.join(DIST, 'validators.cjs'), path.join(DIST, 'help.cjs')]), { validators: false, help: false });
  // the CLI runs main() as it loads (here: usage, and the help bundle); the first stage runs it too
  t.match(rejected([], [path.join(DIST, 'cli.cjs')]), { cli: false });
  t.match(rejected([], [path.join(DIST, 'runts.cjs')]), { cli: false });
  t.same(rejected([], [path.join(DIST, 'exec-init.cjs')]), { 'exec-init': false });
  const flags = initFlags();
  t.ok(flags.includes('--no-short-builtin-calls'), `the init's flags are defined into the CLI bundle: ${flags.join(' ')}`);
  t.same(rejected(flags, [path.join(DIST, 'init.cjs')]), { init: false });
});

t.test('a cache is not used for an edited bundle of the same length, nor when damaged', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-cache-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const f of ['runts.cjs', 'cli.bundle.cjs', 'cli.cache']) fs.copyFileSync(path.join(DIST, f), path.join(dir, f));
  const version = () => spawnSync(process.execPath, [path.join(dir, 'runts.cjs'), '--version'], { env, encoding: 'utf8' });

  let r = version();
  t.equal(r.status, 0);
  t.match(r.stdout, /^runts version /, 'the copy runs with its cache');

  const bundle = path.join(dir, 'cli.bundle.cjs');
  const src = fs.readFileSync(bundle, 'latin1');
  t.ok(src.includes('runts version '), 'the string to edit is in the bundle');
  fs.writeFileSync(bundle, src.replace('runts version ', 'RUNTS VERSION '), 'latin1');
  t.equal(fs.statSync(bundle).size, Buffer.byteLength(src, 'latin1'), 'same length');
  r = version();
  t.equal(r.status, 0);
  t.match(r.stdout, /^RUNTS VERSION /, 'the edited code runs, not the cached one');

  const cache = path.join(dir, 'cli.cache');
  const buf = fs.readFileSync(cache);
  for (let i = buf.length - 4096; i < buf.length; i++) buf[i] ^= 0x5a;
  fs.writeFileSync(cache, buf);
  fs.writeFileSync(bundle, src, 'latin1');
  r = version();
  t.equal(r.status, 0, 'a damaged cache is ignored');
  t.match(r.stdout, /^runts version /);
  t.equal(r.stderr, '');

  fs.writeFileSync(cache, 'garbage');
  r = version();
  t.equal(r.status, 0);
  t.match(r.stdout, /^runts version /);
});

t.test('running runts writes no cache', async (t) => {
  const before = fs.readdirSync(DIST).map((f) => [f, fs.statSync(path.join(DIST, f)).mtimeMs]);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-cache-root-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  spawnSync(path.join(DIST, 'runts.cjs'), ['--root', root, 'list'], { env });
  spawnSync(path.join(DIST, 'runts.cjs'), ['--root', root, 'validate', '--bundle', root], { env });
  const after = fs.readdirSync(DIST).map((f) => [f, fs.statSync(path.join(DIST, f)).mtimeMs]);
  t.same(after, before);
});
