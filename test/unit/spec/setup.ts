/**
 * Shared setup for the spec tests: make sure the generated validators exist
 * (running scripts/gen-validators.mjs when they do not), and bundle helpers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export const REPO = path.resolve(__dirname, '../../..');
export const GENERATED = path.join(REPO, 'src/spec/generated/validators.cjs');
export const GENERATOR = path.join(REPO, 'scripts/gen-validators.mjs');
/** The runtime-spec's schema/test examples (not copied into the repo). */
export const SCHEMA_TESTS = process.env.RUNTS_SCHEMA_TESTS ?? '/work/shared/oci-runtime-spec/schema/test';
export const HAVE_SCHEMA_TESTS = fs.existsSync(SCHEMA_TESTS);

/** The generator module (a variable specifier keeps tsc from type-checking the .mjs). */
export async function loadGenerator(): Promise<{
  generateValidators(outFile?: string): Promise<string>;
  generateSource(): string;
}> {
  const url = pathToFileURL(GENERATOR).href;
  return import(url);
}

/** Generate src/spec/generated/validators.cjs if it is missing. */
export async function ensureValidators(): Promise<void> {
  if (!fs.existsSync(GENERATED)) await (await loadGenerator()).generateValidators(GENERATED);
}

const cleanup: string[] = [];
process.on('exit', () => cleanup.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

export function tmpdir(prefix = 'runts-spec-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanup.push(dir);
  return dir;
}

/** A bundle directory with an empty rootfs/ and, if given, a config.json. */
export function makeBundle(config?: unknown | string): string {
  const dir = tmpdir('runts-bundle-');
  fs.mkdirSync(path.join(dir, 'rootfs'));
  if (config !== undefined) {
    const text = typeof config === 'string' ? config : JSON.stringify(config, null, 2);
    fs.writeFileSync(path.join(dir, 'config.json'), text);
  }
  return dir;
}

export function readJson(file: string): any {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** A small, fully valid Linux config (rootfs "rootfs"). */
export function baseConfig(): any {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/', env: ['PATH=/bin'] },
    hostname: 'ctr',
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }, { type: 'network' }],
    },
  };
}
