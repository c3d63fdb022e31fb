/**
 * Differential tests: the same bundle and the same command run by runc and by
 * runts, each with its own --root, so a test can compare what the container
 * sees and what the caller gets (exit code, output, key phrases of errors).
 *
 *   differential((d) => {                   // the file is skipped where it cannot run
 *     const bundle = makeBundle({ args: [...] });
 *     const r = d.both(['run', '--bundle', bundle, d.id('x')]);
 *     t.equal(r.runts.code, r.runc.code);
 *   });
 *
 * `id()` gives one container id used by both runtimes (their roots differ).
 * Files that loop over the runtimes use `[d.runts, d.runc]`.
 * Commands run with their output in temp files (see run-files.ts): a
 * container may outlive the command that made it.
 */
import t from 'tap';
import { Cli, cannotRunContainers, RUNC, RUNTS, uniqueId, type Result, type RunFilesOpts } from './cli.js';
import { tmpdir } from './rootfs.js';

export { findProcesses, RUNC, shq, uniqueId, type Result } from './cli.js';
export type { Cfg } from './config.js';
export { makeBundle } from './runts.js';

export type RuntimeName = 'runc' | 'runts';

/** One runtime binary with a private --root. */
export class Runtime extends Cli {
  declare readonly name: RuntimeName;
  constructor(name: RuntimeName, bin: string) {
    super(bin, tmpdir(`runts-diff-${name}-`), name);
  }
}

export interface Pair<T> { runc: T; runts: T }

export class Differential {
  readonly runc: Runtime;
  readonly runts: Runtime;

  constructor() {
    this.runc = new Runtime('runc', RUNC ?? '/usr/sbin/runc');
    this.runts = new Runtime('runts', RUNTS);
  }

  /** Why this machine cannot run differential tests, or undefined when it can. */
  static cannotRun(opts: { x64?: boolean } = {}): string | undefined {
    const why = cannotRunContainers(RUNTS, { runc: true });
    if (why) return why;
    if (opts.x64 && process.arch !== 'x64') return 'x86_64 only';
    return undefined;
  }

  get all(): Runtime[] { return [this.runc, this.runts]; }

  /** A container id for one comparison (the same for both runtimes). */
  id(prefix = 'diff'): string { return uniqueId(prefix); }

  /** The same command under both runtimes, runc first. */
  both(args: string[], opts: RunFilesOpts = {}): Pair<Result> {
    return { runc: this.runc.run(args, opts), runts: this.runts.run(args, opts) };
  }

  /** Run `fn` for each runtime, runc first; collect the results. */
  async each<T>(fn: (rt: Runtime) => T | Promise<T>): Promise<Pair<T>> {
    const runc = await fn(this.runc);
    const runts = await fn(this.runts);
    return { runc, runts };
  }

  cleanup(): void {
    for (const rt of this.all) rt.cleanup();
  }
}

/** Only the first line of an error text, for messages in assertions. */
export function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim() !== '') ?? '';
}

export interface DifferentialOpts {
  /** The tests are written for x86_64 (seccomp profiles, syscall numbers). */
  x64?: boolean;
  /** Another reason to skip the file on this host, or undefined. */
  skip?: string;
}

/**
 * The body of a differential test file: `tests` gets runc and runts with
 * private roots, removed at the end; the file is skipped, with the reason,
 * where they cannot run.
 */
export function differential(tests: (d: Differential) => void): void;
export function differential(opts: DifferentialOpts, tests: (d: Differential) => void): void;
export function differential(a: DifferentialOpts | ((d: Differential) => void), b?: (d: Differential) => void): void {
  const [opts, tests] = typeof a === 'function' ? [{}, a] : [a, b!];
  const why = Differential.cannotRun(opts) ?? opts.skip;
  if (why) {
    t.plan(0, why);
    return;
  }
  const d = new Differential();
  t.teardown(() => d.cleanup());
  tests(d);
}
