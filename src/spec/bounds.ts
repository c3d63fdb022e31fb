/**
 * Bounds checked on a config's JSON text before any other work (before the
 * schema, the semantic checks, the rootfs): sizes the spec leaves open get
 * limits far above real use, so that a hostile config fails fast instead of
 * making runts (or the kernel) chew on it; and integers are compared with
 * their C type by their literal digits (see ctypes.ts).
 *
 * Limits (real configs: ~100 mounts, ~400 seccomp rules, strings of at most a few KiB):
 *   document            64 MiB (raw-text.ts, before parsing)
 *   nesting depth       64 levels
 *   any string          16 MiB (UTF-16 code units; keys included): annotations carry whole documents
 *                       (the CVE-2021-43784 regression test sends 2 MB values; runc and crun take them)
 *   a path              PATH_MAX: 4095 bytes + the terminating NUL (limits.h), for the fields in PATH_FIELDS
 *   any array           65536 items
 *   any object          65536 members
 *
 * Also: every integer literal beyond 2^53 is recorded with its exact value
 * (`exact`), since JSON.parse keeps only the nearest double.
 */
import { ConfigError } from '../common/errors.js';
import { CTYPES, MAP_OBJECTS, ctypeProblem, inexactWarning } from './ctypes.js';

export const MAX_DEPTH = 64;
export const MAX_STRING = 16 * 1024 * 1024;
export const PATH_MAX = 4096;
export const MAX_ARRAY_ITEMS = 65536;
export const MAX_OBJECT_MEMBERS = 65536;

/** Fields that are paths: longer than PATH_MAX - 1 bytes, the kernel refuses them (ENAMETOOLONG). */
export const PATH_FIELDS: ReadonlySet<string> = new Set([
  '/root/path', '/process/cwd', '/mounts/#/destination', '/mounts/#/source', '/hooks/*/#/path',
  '/linux/namespaces/#/path', '/linux/devices/#/path', '/linux/maskedPaths/#', '/linux/readonlyPaths/#',
  '/linux/cgroupsPath', '/linux/seccomp/listenerPath',
]);

export interface ScanResult {
  /** Sizes beyond the limits: nothing else should look at such a document. */
  errors: ConfigError[];
  /** Integers outside their C type. */
  typeErrors: ConfigError[];
  /** Integers that a double cannot hold (warnings, see ctypes.ts inexactWarning). */
  inexact: ConfigError[];
  /** Pointer → exact value of each integer literal that a double cannot hold exactly. */
  exact: Map<string, bigint>;
}

function escapeSegment(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MAX_ERRORS = 100;

class Stop extends Error {}

/**
 * Scan JSON text (already known to parse) for everything above. `base` are
 * the pointer segments of the document's root (['process'] for an exec
 * --process file), so the patterns apply to it as to a config's process.
 * exactText false: the text is a parsed object serialised again, so integers
 * beyond 2^53 are not judged (the schema still compares them as doubles).
 */
export function scanBounds(text: string, base: string[] = [], exactText = true): ScanResult {
  const errors: ConfigError[] = [];
  const typeErrors: ConfigError[] = [];
  const inexact: ConfigError[] = [];
  const exact = new Map<string, bigint>();
  const ptr: string[] = base.map(escapeSegment);
  const pat: string[] = [...ptr];
  let i = 0;
  const here = (): string => (ptr.length ? `/${ptr.join('/')}` : '/');
  const pattern = (): string => `/${pat.join('/')}`;
  const fail = (message: string, at = here()): void => {
    errors.push(new ConfigError(at, message));
    if (errors.length >= MAX_ERRORS) throw new Stop();
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  /** Skips a string; returns its decoded value only when wanted. */
  const string = (want: boolean, isPath = false): string | undefined => {
    const start = i;
    i++;
    for (;;) {
      const q = text.indexOf('"', i);
      let bs = q - 1;
      while (bs >= start + 1 && text[bs] === '\\') bs--;
      i = q + 1;
      if ((q - 1 - bs) % 2 === 0) break; // an even number of backslashes: the quote ends the string
    }
    const raw = text.slice(start, i);
    const decodedLength = raw.includes('\\') || want ? (JSON.parse(raw) as string) : undefined;
    const length = decodedLength?.length ?? raw.length - 2;
    if (length > MAX_STRING && !isPath) fail(`string too long (${length} characters; runts accepts at most ${MAX_STRING})`);
    return decodedLength;
  };
  const value = (depth: number): void => {
    if (depth > MAX_DEPTH) {
      fail(`nested too deeply (runts accepts at most ${MAX_DEPTH} levels)`);
      throw new Stop();
    }
    ws();
    const c = text[i];
    if (c === '{') return object(depth);
    if (c === '[') return array(depth);
    if (c === '"') {
      const isPath = PATH_FIELDS.has(pattern());
      const s = string(isPath, isPath);
      if (isPath && s !== undefined && Buffer.byteLength(s) >= PATH_MAX) {
        fail(`path too long (${Buffer.byteLength(s)} bytes; the kernel's PATH_MAX is ${PATH_MAX} bytes including the terminating NUL)`);
      }
      return;
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      NUMBER.test(text);
      const literal = text.slice(i, NUMBER.lastIndex);
      i = NUMBER.lastIndex;
      return number(literal);
    }
    i += c === 'f' ? 5 : 4; // true, false, null
  };
  const number = (literal: string): void => {
    const pat = pattern();
    const type = CTYPES.get(pat);
    // text re-serialised from doubles: beyond 2^53 its digits are not the config's (2^64-1 reads as 2^64)
    if (type && (exactText || Number.isSafeInteger(Number(literal)))) {
      const problem = ctypeProblem(type, literal);
      if (problem && typeErrors.length < MAX_ERRORS) typeErrors.push(new ConfigError(here(), problem));
      const loss = problem ? undefined : inexactWarning(type, literal, pat);
      if (loss && inexact.length < MAX_ERRORS) inexact.push(new ConfigError(here(), loss));
    }
    if (/^-?\d+$/.test(literal) && !Number.isSafeInteger(Number(literal))) exact.set(here(), BigInt(literal));
  };
  const members = (close: string, item: (n: number) => void): number => {
    i++;
    ws();
    let n = 0;
    if (text[i] === close) {
      i++;
      return 0;
    }
    for (;;) {
      item(n++);
      ws();
      if (text[i++] === close) return n;
      ws(); // after ','
    }
  };
  const array = (depth: number): void => {
    const n = members(']', (k) => {
      ptr.push(String(k));
      pat.push('#');
      value(depth + 1);
      ptr.pop();
      pat.pop();
    });
    if (n > MAX_ARRAY_ITEMS) fail(`too many items (${n}; runts accepts at most ${MAX_ARRAY_ITEMS})`);
  };
  const object = (depth: number): void => {
    const isMap = MAP_OBJECTS.has(pattern());
    const n = members('}', () => {
      const key = string(true)!;
      ws();
      i++; // ':'
      ptr.push(escapeSegment(key));
      pat.push(isMap ? '*' : escapeSegment(key));
      value(depth + 1);
      ptr.pop();
      pat.pop();
    });
    if (n > MAX_OBJECT_MEMBERS) fail(`too many members (${n}; runts accepts at most ${MAX_OBJECT_MEMBERS})`);
  };
  try {
    value(base.length);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  return { errors, typeErrors, inexact, exact };
}
