/** Helpers shared by the real rootfs setup tests (setup-*.test.ts). */
import t from 'tap';
import { parseMountinfo, type MountInfo } from '../../src/linux/rootfs/mountinfo.js';
import { makeBundle, section, type Bundle, type RunResult } from './harness.js';

/** The parts of a tap test the helpers use. */
export interface TT { equal: typeof t.equal; comment: typeof t.comment; teardown: typeof t.teardown }

export function bundle(t: TT): Bundle {
  const b = makeBundle();
  t.teardown(b.cleanup);
  return b;
}

export function mi(r: RunResult, name = 'mi'): MountInfo[] {
  return parseMountinfo(r.sections[name] ?? '');
}

export function ok(t: TT, r: RunResult): void {
  t.equal(r.error, null, 'setup succeeded');
  t.equal(r.status, 0, 'script exit status');
  if (r.error || r.status !== 0) t.comment(r.stdout + r.stderr);
}

export const MI = section('mi', 'cat /proc/self/mountinfo');
