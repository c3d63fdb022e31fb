// Build: ajv standalone validators from schemas/, then the bundled entry points
// dist/runts.cjs (the command: the CLI's first stage, which loads dist/cli.cjs
// for most commands), dist/init.cjs and dist/exec-init.cjs (the init stages). koffi stays
// external (native). Run by `npm install` (after node-gyp) and by `npm test`.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const t0 = Date.now();

const { generateValidators } = await import('./gen-validators.mjs');
await generateValidators(join(root, 'src/spec/generated/validators.cjs'));

mkdirSync(join(root, 'dist'), { recursive: true });
// V8 flags of the init stage's node (nsboot runs `node FLAGS dist/init.cjs`; src/common/paths.ts):
// without short builtin calls V8 does not copy its builtins (1.5 MiB) into every waiting init.
// Its warm run below uses the same flags: V8 rejects a code cache made under other flags.
const INIT_NODE_FLAGS = ['--no-short-builtin-calls'];
// koffi's native module, as `require('koffi')` finds it here: the bundles load it by path (src/linux/libc.ts)
const koffiNative = (() => {
  const req = createRequire(join(root, 'package.json'));
  const before = new Set(Object.keys(req.cache));
  const k = req('koffi');
  const file = Object.keys(req.cache).find((f) => !before.has(f) && f.endsWith('.node'));
  return file ? { path: relative(join(root, 'dist'), file), version: k.version } : undefined;
})();
if (!koffiNative) console.error('warning: koffi\'s native module not found: the bundles load koffi through its package');
// `import * as fs from 'node:fs'` makes esbuild copy the module's properties
// into a new object (__toESM) in every file that says it, at start: 23 times
// in the CLI (~2 ms). Through one ESM module per builtin, each copies once.
const builtinNamespaces = {
  name: 'builtin-namespaces',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) => (a.namespace === 'builtin' ? { path: a.path, external: true } : { path: a.path, namespace: 'builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (a) => ({ contents: `export * from ${JSON.stringify(a.path)};`, loader: 'js' }));
  },
};
const { buildExtras, buildInfo: readBuildInfo } = await import('./build-extras.mjs');
const buildInfo = readBuildInfo(root);
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  external: ['koffi'],
  logLevel: 'warning',
  define: {
    __RUNTS_KOFFI_NATIVE__: JSON.stringify(koffiNative) ?? 'undefined',
    __RUNTS_INIT_NODE_FLAGS__: JSON.stringify(INIT_NODE_FLAGS),
    // `runts --version` (scripts/build-extras.mjs): package.json's version, the git commit or "unknown"
    __RUNTS_VERSION__: JSON.stringify(buildInfo.version),
    __RUNTS_COMMIT__: JSON.stringify(buildInfo.commit),
  },
  // string-width compiles a huge Unicode regex at load time (~30 ms); a small shim does.
  alias: { 'string-width': join(root, 'scripts/shims/string-width.cjs') },
};
// Parts only some commands need are separate files, loaded on demand: the
// validators (create/run/validate) and yargs (help). `state` or `kill`
// then compile a much smaller bundle.
const lazyParts = {
  name: 'lazy-parts',
  setup(b) {
    b.onResolve({ filter: /generated\/validators\.cjs$/ }, () => ({ path: './validators.cjs', external: true }));
    b.onResolve({ filter: /^\.\/help\.js$/ }, () => ({ path: './help.cjs', external: true }));
    b.onResolve({ filter: /^\.\.\/image\/main\.js$/ }, () => ({ path: './image.cjs', external: true }));
  },
};
// Each entry point NAME is bundled to dist/NAME.bundle.cjs; dist/NAME.cjs is a
// stub that runs it through the loader with its V8 code cache dist/NAME.cache
// (made below by warm runs; scripts/loader.cjs says how it is checked).
const entries = {
  cli: 'src/cli/main.ts',
  init: 'src/init/main.ts',
  'exec-init': 'src/init/exec-main.ts',
  help: 'src/cli/help.ts',
  image: 'src/image/main.ts',
  validators: 'src/spec/generated/validators.cjs',
};
for (const f of readdirSync(join(root, 'dist'))) {
  if (/\.(cache|tmp)$/.test(f) || /^runts\.(bundle\.cjs|cache)$/.test(f) || f === 'load.cjs') rmSync(join(root, 'dist', f));
}
const noImport = (file) => {
  // a vm.Script has no module loader for import() (scripts/loader.cjs): the bundles use require
  if (/\bimport\(/.test(readFileSync(file, 'utf8'))) throw new Error(`build: ${relative(root, file)} contains import(): use require() (it runs in a vm.Script)`);
};
// dist/NAME.cjs runs dist/NAME.bundle.cjs through its own copy of the loader
// (scripts/loader.cjs): one module resolution and load fewer per process.
const loaderSource = readFileSync(join(root, 'scripts/loader.cjs'), 'utf8');
const stub = (name) => `// runs ./${name}.bundle.cjs with its code cache (scripts/build.mjs); the loader is scripts/loader.cjs
(function (module) {
${loaderSource}
return module.exports;
})({ exports: {} })(module, require, '${name}');
`;
for (const [name, entry] of Object.entries(entries)) {
  await build({
    ...common,
    plugins: name === 'cli' ? [lazyParts, builtinNamespaces] : [builtinNamespaces],
    // yargs is ESM: give the help bundle, and only it (node:url's pathToFileURL costs ~2 ms at start), an import.meta.url
    ...(name === 'help' ? {
      define: { ...common.define, 'import.meta.url': '__importMetaUrl' },
      banner: { js: "var __importMetaUrl=require('node:url').pathToFileURL(__filename).href;" },
    } : {}),
    entryPoints: [join(root, entry)],
    outfile: join(root, `dist/${name}.bundle.cjs`),
  });
  noImport(join(root, `dist/${name}.bundle.cjs`));
  writeFileSync(join(root, `dist/${name}.cjs`), stub(name));
}
// dist/runts.cjs, the command: the CLI's first stage (src/cli/entry.ts), small
// enough that node compiles it faster than it would read a code cache. It
// answers `state` and `list` itself and runs the CLI's bundle (through the
// loader, bundled in) for everything else.
await build({
  ...common,
  plugins: [builtinNamespaces],
  define: { ...common.define, __RUNTS_FIRST_STAGE__: 'true' },
  banner: { js: '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node' },
  entryPoints: [join(root, 'src/cli/entry.ts')],
  outfile: join(root, 'dist/runts.cjs'),
});
noImport(join(root, 'dist/runts.cjs'));
chmodSync(join(root, 'dist/runts.cjs'), 0o755);
await makeCodeCaches();
// the library (dist/api.*), man pages and bash completion from the CLI table (scripts/build-extras.mjs)
await buildExtras(root, common);
if (!existsSync(join(root, 'build/Release/nsboot'))) {
  console.error('warning: build/Release/nsboot is missing: run `npm install` (node-gyp) first');
}
console.error(`build: done in ${Date.now() - t0} ms`);

/**
 * Warm runs, one after another, each extending the caches of the bundles it
 * loads (scripts/code-cache.cjs): only commands without side effects, that
 * need neither root nor a container. The init stages cannot run without a
 * container: their run stops at the first read of the missing sync socket,
 * after koffi and the libc bindings are loaded.
 */
async function makeCodeCaches() {
  const dist = join(root, 'dist');
  const work = mkdtempSync(join(tmpdir(), 'runts-build-'));
  // the same node and V8 flags as the runtime's own starts (V8 rejects a cache made under other flags)
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', RUNTS_CODE_CACHE_DIST: dist };
  const node = (args) => {
    const r = spawnSync(process.execPath, ['-r', join(root, 'scripts/code-cache.cjs'), ...args], { env, cwd: work, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    if (r.error || r.signal) throw new Error(`build: warm run ${args.join(' ')}: ${r.error ?? r.signal}`);
    return r;
  };
  try {
    const st = join(work, 'state');
    const bundle = join(work, 'bundle');
    mkdirSync(join(bundle, 'rootfs'), { recursive: true });
    const runts = (...args) => node([join(dist, 'runts.cjs'), '--root', st, ...args]);
    runts('--help');
    runts('help', 'create');
    runts('exec', '--help');
    runts('--version');
    runts('spec', '--bundle', bundle);
    runts('validate', '--bundle', bundle);
    runts('features');
    runts('list');
    runts('list', '--format', 'json');
    runts('state', 'no-such-container');
    runts('kill', 'no-such-container', 'KILL');
    runts('start', 'no-such-container');
    runts('create', '--bundle', join(work, 'no-such-bundle'), 'x');
    runts('no-such-command');
    runts('image', 'unpack', join(work, 'no-such-layout'), join(work, 'image-bundle'));
    node([...INIT_NODE_FLAGS, join(dist, 'init.cjs')]);
    node([join(dist, 'exec-init.cjs')]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  for (const name of Object.keys(entries)) {
    if (!existsSync(join(dist, `${name}.cache`))) console.error(`warning: no code cache for dist/${name}.bundle.cjs (runts works, starts slower)`);
  }
}
