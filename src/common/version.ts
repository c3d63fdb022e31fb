/** What `runts --version` and `runts features` report, baked by scripts/build.mjs (package.json's version, the git commit built). */
declare const __RUNTS_VERSION__: string | undefined;
declare const __RUNTS_COMMIT__: string | undefined;
export const VERSION = typeof __RUNTS_VERSION__ === 'undefined' ? '0.0.0-dev' : __RUNTS_VERSION__;
/** `git rev-parse HEAD` at build time (+"-dirty"), or "unknown" when not built from a git checkout. */
export const COMMIT = typeof __RUNTS_COMMIT__ === 'undefined' ? 'unknown' : __RUNTS_COMMIT__;
