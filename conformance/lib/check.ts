/**
 * check(name, requirementIds, fn): a tap subtest that names the requirements
 * it exercises (conformance/requirements.json ids). extract-requirements.mjs
 * finds these calls in the source; at the end of the file the outcome of
 * every check is written to conformance/.results/<file>.json and
 * conformance/COVERAGE.md is regenerated (conformance/coverage.mjs).
 *
 * Keep `name` and the id list literal: they are read from the source.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import type { BuiltPlugins } from '@tapjs/test';
import { cannotRun, cleanupBundles, Runtime, RUNTIME_NAME } from './runtime.js';

export type TestT = Test & BuiltPlugins;

const REPO = path.resolve(__dirname, '../..');
const RESULTS_DIR = path.join(REPO, 'conformance/.results');

export interface CheckOpts {
  /** A known runts bug or missing feature: the check runs but cannot fail the suite. */
  todo?: string;
  /** The check cannot run here (skipped with this reason). */
  skip?: string;
  timeout?: number;
}

export type Outcome = 'pass' | 'fail' | 'todo-fail' | 'todo-pass' | 'skip';

interface Record_ { name: string; ids: string[]; outcome: Outcome; reason?: string; ms: number }

const records: Record_[] = [];
const testFile = path.relative(REPO, path.resolve(process.argv[1] ?? 'unknown'));
let hooked = false;

function writeResults(): void {
  if (records.length === 0) return;
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const name = testFile.replace(/[/\\]/g, '__').replace(/\.test\.ts$/, '') + '.json';
  fs.writeFileSync(path.join(RESULTS_DIR, name), JSON.stringify({ file: testFile, runtime: RUNTIME_NAME, date: new Date().toISOString(), checks: records }, null, 2) + '\n');
  if (RUNTIME_NAME === 'runts' && !process.env.CONFORMANCE_NO_COVERAGE) {
    spawnSync(process.execPath, [path.join(REPO, 'conformance/coverage.mjs')], { stdio: 'ignore', timeout: 30_000 });
  }
}

export function check(name: string, ids: string[], fn: (t: TestT) => unknown, opts: CheckOpts = {}): void {
  if (!hooked) {
    hooked = true;
    t.teardown(() => { writeResults(); cleanupBundles(); });
  }
  let started = Date.now();
  const rec: Record_ = { name, ids, outcome: 'skip', ms: 0 };
  records.push(rec);
  if (opts.skip) {
    rec.reason = opts.skip;
    t.test(name, { skip: opts.skip }, () => {});
    return;
  }
  const topts: Record<string, unknown> = {};
  if (opts.timeout) topts.timeout = opts.timeout;
  t.test(name, topts, async (st) => {
    started = Date.now();
    const real = st as unknown as TestT;
    const todo = opts.todo ? todoProxy(real, opts.todo) : null;
    const sub = todo ? todo.proxy : real;
    sub.comment(`requirements: ${ids.join(' ') || '(none: runts-specific or engine behaviour)'}`);
    if (opts.todo) real.comment(`TODO (known runts bug, assertions do not fail the suite): ${opts.todo}`);
    let threw: unknown = null;
    try {
      await fn(sub);
    } catch (e) {
      threw = e;
    }
    rec.ms = Date.now() - started;
    if (todo) {
      if (threw) sub.fail(`threw: ${threw instanceof Error ? threw.message : String(threw)}`);
      rec.reason = opts.todo;
      // results reach the parser asynchronously: decide at the end of the subtest
      real.teardown(() => { rec.outcome = threw || todo.failed() ? 'todo-fail' : 'todo-pass'; });
      return;
    }
    real.teardown(() => { rec.outcome = !threw && real.passing() ? 'pass' : 'fail'; });
    if (threw) throw threw;
  });
}

/** Position of the message argument of the assertions the checks use. */
const MSG_INDEX: Record<string, number> = {
  pass: 0, fail: 0, ok: 1, notOk: 1, doesNotThrow: 1, equal: 2, not: 2, same: 2, notSame: 2, strictSame: 2, match: 2, notMatch: 2, type: 2, has: 2,
};

/**
 * A view of a test whose assertions are all marked todo: a known runts bug
 * makes them fail without failing the suite, and the check still runs, so
 * the coverage report sees the day it starts to pass.
 */
function todoProxy(real: TestT, reason: string): { proxy: TestT; failed: () => boolean } {
  let failed = false;
  // tap returns true from a failing todo assertion; the parsed test point says "not ok"
  (real as unknown as { on: (ev: string, fn: (r: { ok: boolean; skip?: unknown }) => void) => void })
    .on('assert', (r) => { if (!r.ok && !r.skip) failed = true; });
  const proxy = new Proxy(real, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !(prop in MSG_INDEX) || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
      const i = MSG_INDEX[prop]!;
      return (...args: unknown[]) => {
        const msg = typeof args[i] === 'string' ? args[i] as string : prop;
        const extra = { ...(typeof args[i + 1] === 'object' && args[i + 1] ? args[i + 1] as object : {}), todo: reason };
        return (v as (...a: unknown[]) => boolean).apply(target, [...args.slice(0, i), msg, extra]);
      };
    },
  });
  return { proxy, failed: () => failed };
}

/**
 * Run fn when the test file ends (tap's teardown: process 'exit' handlers do
 * not run reliably under tap). Bundles made with makeBundle are removed too.
 */
export function onTeardown(fn: () => void): void {
  t.teardown(fn);
}

/** Skip the whole file with a reason (no results are written). */
export function skipFile(reason: string): void {
  t.plan(0, reason);
}

/**
 * The body of a conformance file: `tests` gets the runtime under test with a
 * private root, removed at the end; the file is skipped, with the reason,
 * where containers cannot run.
 */
export function withRuntime(tests: (rt: Runtime) => void): void {
  const why = cannotRun();
  if (why) return skipFile(why);
  const rt = new Runtime();
  onTeardown(() => rt.cleanup());
  tests(rt);
}
