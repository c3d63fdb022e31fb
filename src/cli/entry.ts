/**
 * The first stage of every runts command: dist/runts.cjs is this file's
 * bundle, small enough that node compiles it at once, without a code cache
 * to read. `state` and `list`, which engines call most often, are answered
 * by quick.ts without loading the CLI (src/cli/main.ts, dist/cli.bundle.cjs
 * with its code cache: ~10 ms more per command); every other command line
 * goes straight to the CLI.
 */
declare const __RUNTS_FIRST_STAGE__: boolean | undefined;

const argv = process.argv.slice(2);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const quick = argv.includes('state') || argv.includes('list') ? (require('./quick.js') as typeof import('./quick.js')).quickAnswer(argv) : false;
if (!quick) {
  // built (scripts/build.mjs): the CLI's bundle with its code cache, through the loader (scripts/loader.cjs, bundled in); it runs main() as it loads
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (typeof __RUNTS_FIRST_STAGE__ !== 'undefined') require('../../scripts/loader.cjs')(module, require, 'cli');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  else require('./main.js');
}
