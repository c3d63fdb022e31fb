/**
 * Shared bits of the test/security real-container tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Test } from 'tap';
import { findCgroups, findProcesses, makeBundle, type Runts, uniqueId } from '../helpers/runts.js';

export type Cfg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** `runts run` of `sh -c script` in a fresh bundle; returns the run result and the id. */
export function runSh(rt: Runts, script: string, mutate?: (c: Cfg) => void, prefix = 'sec') {
  return runArgs(rt, ['sh', '-c', script], mutate, prefix);
}

export function runArgs(rt: Runts, args: string[], mutate?: (c: Cfg) => void, prefix = 'sec') {
  const id = uniqueId(prefix);
  const bundle = makeBundle({ args, mutate });
  const r = rt.run(['run', '--bundle', bundle, id]);
  fs.rmSync(bundle, { recursive: true, force: true });
  return { ...r, id };
}

/** The fields of a /proc/PID/stat line, numbered as in proc(5) (1 = pid, 2 = comm, ...). */
export function statFields(line: string): Record<number, string> {
  const close = line.lastIndexOf(')');
  const rest = line.slice(close + 2).trim().split(' ');
  const out: Record<number, string> = { 1: line.slice(0, line.indexOf(' ')), 2: line.slice(line.indexOf('(') + 1, close) };
  rest.forEach((v, i) => { out[i + 3] = v; });
  return out;
}

/** A failed create/run left no state dir, cgroup or process behind. */
export function assertNothingLeft(t: Test, rt: Runts, id: string): void {
  t.equal(fs.existsSync(path.join(rt.root, id)), false, 'no state dir');
  t.same(findCgroups(id), [], 'no cgroup');
  t.same(findProcesses(id), [], 'no process');
}
