/**
 * koffi, loaded the fast way when the build recorded where its native module
 * is (scripts/build.mjs defines __RUNTS_KOFFI_NATIVE__: the path of the
 * koffi.node that `require('koffi')` loaded at build time, relative to dist/ (where
 * the bundles are), and koffi's version). Loading that file by absolute
 * path skips koffi's package resolution, its ELF probe of node and
 * node:module (about 9 ms in every init and exec stage). runts uses only
 * the native functions (load, struct, errno, address), which the package's
 * JavaScript exports unchanged; its own version check is made here. When
 * the file is missing or its version differs, or outside a build (tsx), the
 * package is loaded as usual.
 */
import * as path from 'node:path';

declare const __RUNTS_KOFFI_NATIVE__: { path: string; version: string } | undefined;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadKoffi(): any {
  const native = typeof __RUNTS_KOFFI_NATIVE__ === 'undefined' ? undefined : __RUNTS_KOFFI_NATIVE__;
  if (native) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const m = require(path.join(__dirname, native.path));
      if (m?.version === native.version) return m;
    } catch { /* the package's own way, below */ }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('koffi');
}
