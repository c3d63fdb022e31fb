// Build: ajv standalone validators from schemas/, then the bundled entry points
// dist/runts.cjs (the CLI) and dist/init.cjs (the init stage). koffi stays
// external (native). Run by `npm install` (after node-gyp) and by `npm test`.
import { build } from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const t0 = Date.now();

const { generateValidators } = await import('./gen-validators.mjs');
await generateValidators(join(root, 'src/spec/generated/validators.cjs'));

mkdirSync(join(root, 'dist'), { recursive: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  external: ['koffi'],
  logLevel: 'warning',
  // yargs is ESM; give the CJS bundle an import.meta.url.
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "var __importMetaUrl=require('node:url').pathToFileURL(__filename).href;" },
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
  },
};
await build({
  ...common,
  plugins: [lazyParts],
  entryPoints: [join(root, 'src/cli/main.ts')],
  outfile: join(root, 'dist/runts.cjs'),
  banner: { js: '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node\n' + common.banner.js },
});
await build({ ...common, entryPoints: [join(root, 'src/init/main.ts')], outfile: join(root, 'dist/init.cjs') });
await build({ ...common, entryPoints: [join(root, 'src/init/exec-main.ts')], outfile: join(root, 'dist/exec-init.cjs') });
await build({ ...common, entryPoints: [join(root, 'src/cli/help.ts')], outfile: join(root, 'dist/help.cjs') });
await build({ ...common, entryPoints: [join(root, 'src/spec/generated/validators.cjs')], outfile: join(root, 'dist/validators.cjs') });
if (!existsSync(join(root, 'build/Release/nsboot'))) {
  console.error('warning: build/Release/nsboot is missing: run `npm install` (node-gyp) first');
}
(await import('node:fs')).chmodSync(join(root, 'dist/runts.cjs'), 0o755);
console.error(`build: done in ${Date.now() - t0} ms`);
