/**
 * The cgroup manager: creates the container's cgroups, places processes in
 * them, writes resource limits, freezes/thaws, lists and signals processes,
 * reads statistics and removes what it created.
 *
 * Everything a later process needs (`runts delete` after a crash) is in the
 * serialisable CgroupRecord; cgroupManagerFromRecord rebuilds the manager
 * from it without looking at the config or the host layout again.
 *
 * Recommended order at container creation: create() → set() → apply(pid)
 * (limits are in place before the first process joins; the cpuset of a v1
 * cgroup is initialised by create() so it can take tasks).
 */

import { errnoNumber, RuntsError, SyscallError } from '../common/errors.js';
import type { Resources } from '../spec/types.js';
import { attachDeviceFilter } from './bpf.js';
import { cgroupFrozen } from './frozen.js';
import { detectCgroups, ownCgroups, type CgroupMode, type HostCgroups } from './detect.js';
import {
  childDirs, errnoOf, exists, mkdirOne, readCgroupFile, removeTree, rmdirRetry, sleepMs, tryRead, writeCgroupFile,
} from './fsutil.js';
import { resolveCgroupPaths } from './paths.js';
import { planV1, planV2, type PlanContext, type PlanEntry } from './plan.js';
import { statsV1, statsV2, parseKeyValues, type CgroupStats } from './stats.js';
import { SIGKILL } from '../linux/abi.js';

export interface CgroupRecord {
  mode: CgroupMode;
  /** Controller (v1; "name=systemd" for named hierarchies) or "" (cgroup2) → absolute directory. */
  paths: Record<string, string>;
  /** Directories this container created, parents first (deepest last). */
  created: string[];
  /**
   * cgroup v2 only: the hierarchy's mount point, the highest level whose
   * cgroup.subtree_control create() may touch. Optional; without it create()
   * walks up while the parent is a cgroup directory.
   */
  v2Mount?: string;
}

export interface SetOptions {
  /** This is `runts update` on an existing container (enables memory.checkBeforeUpdate). */
  update?: boolean;
}

export interface CgroupManager {
  readonly record: CgroupRecord;
  /**
   * mkdir -p every path. Each directory that does not exist yet is added to
   * record.created, and `persist(record)` (if given) is called, BEFORE it is
   * created, so a crash never leaves a directory nobody knows about.
   */
  create(persist?: (rec: CgroupRecord) => void): void;
  /** Move a process (and so its future children) into every path. */
  apply(pid: number): void;
  /** Write linux.resources (full config at create, or the changes on update). */
  set(resources: Resources, opts?: SetOptions): void;
  freeze(): void;
  thaw(): void;
  /** Frozen by this cgroup's own freezer (not merely by an ancestor's). */
  frozen(): boolean;
  /** Every pid in the container's cgroup, including sub-cgroups. */
  pids(): number[];
  /** Signal every process (cgroup.kill for SIGKILL where available). */
  killAll(signal: number): void;
  /** Remove the directories in record.created (kills nothing). */
  destroy(): void;
  stats(): CgroupStats;
  /** OOM kills so far in the container's memory cgroup. */
  oomKillCount(): number;
  /** The directory backing a controller ("" for cgroup2), if any. */
  path(controller: string): string | undefined;
}

export interface ManagerOptions {
  /** Host layout; defaults to detectCgroups(). */
  host?: HostCgroups;
  /** The runtime's own cgroups (for relative cgroupsPath); defaults to /proc/self/cgroup. */
  own?: () => Record<string, string>;
}

function uniq<T>(a: T[]): T[] {
  return [...new Set(a)];
}

function parentDir(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

class Manager implements CgroupManager {
  constructor(readonly record: CgroupRecord) {}

  path(controller: string): string | undefined {
    return this.record.paths[controller];
  }

  private dirs(): string[] {
    return uniq(Object.values(this.record.paths)).sort();
  }

  private get v2dir(): string | undefined {
    return this.record.paths[''];
  }

  // ------------------------------------------------------------------ create

  create(persist?: (rec: CgroupRecord) => void): void {
    // A concurrent delete may remove an empty shared parent (the default
    // /runts) between our check and our mkdir: look again and retry.
    for (let attempt = 1; ; attempt++) {
      try {
        this.createOnce(persist);
        break;
      } catch (e) {
        if (attempt >= 5 || (e as RuntsError).errno !== 'ENOENT') throw e;
      }
    }
    const cpuset = this.record.paths.cpuset;
    if (cpuset && this.record.mode !== 'v2') initCpuset(cpuset);
    if (this.record.mode === 'v2' && this.v2dir) enableControllers(this.v2dir, this.record.v2Mount);
  }

  private createOnce(persist?: (rec: CgroupRecord) => void): void {
    const missing: string[] = [];
    for (const leaf of this.dirs()) {
      const chain: string[] = [];
      for (let d = leaf; d !== '/' && !exists(d); d = parentDir(d)) chain.unshift(d);
      for (const d of chain) if (!missing.includes(d)) missing.push(d);
    }
    const fresh = missing.filter((d) => !this.record.created.includes(d));
    if (fresh.length) {
      this.record.created.push(...fresh);
      persist?.(this.record);
    }
    for (const d of missing) {
      if (mkdirOne(d) === 'existed') {
        // Someone else created it between our check and mkdir: not ours to remove.
        this.record.created = this.record.created.filter((x) => x !== d);
      }
    }
    if (missing.length && persist) persist(this.record);
  }

  // ------------------------------------------------------------------- apply

  apply(pid: number): void {
    for (const d of this.dirs()) writeProcs(d, pid);
  }

  // --------------------------------------------------------------------- set

  set(resources: Resources, opts: SetOptions = {}): void {
    if (this.record.mode === 'v2') this.setV2(resources, opts);
    else this.setV1(resources, opts);
  }

  private setV1(r: Resources, opts: SetOptions): void {
    const p = this.record.paths;
    const ctx: PlanContext = { update: opts.update };
    if (p.memory && r.memory) {
      const cur = tryRead(`${p.memory}/memory.limit_in_bytes`);
      if (cur !== undefined) ctx.currentMemoryLimit = Number(cur.trim());
      ctx.swapAccounting = exists(`${p.memory}/memory.memsw.limit_in_bytes`);
    }
    if (p.blkio && r.blockIO) {
      ctx.blkioWeightFile = exists(`${p.blkio}/blkio.weight`) ? 'blkio.weight'
        : exists(`${p.blkio}/blkio.bfq.weight`) ? 'blkio.bfq.weight' : null;
    }
    const plan = planV1(r, ctx);
    // Refuse before writing anything if a needed controller is not mounted.
    const missing = plan.find((e) => !p[e.controller] && !e.optional);
    if (missing) {
      throw new RuntsError(`${missing.source}: the ${missing.controller} cgroup controller is not mounted on this host (cannot write ${missing.file})`, { op: 'cgroup set' });
    }
    applyPlan(plan.filter((e) => p[e.controller]), (e) => p[e.controller]!, false);
  }

  private setV2(r: Resources, opts: SetOptions): void {
    const dir = this.v2dir;
    if (!dir) throw new RuntsError('cgroup v2 record without a "" path', { op: 'cgroup set' });
    const ctx: PlanContext = { update: opts.update, bfq: exists(`${dir}/io.bfq.weight`) };
    const ctl = tryRead(`${dir}/cgroup.controllers`);
    if (ctl !== undefined) ctx.controllers = ctl.split(/\s+/).filter(Boolean);
    if (r.memory) {
      const cur = tryRead(`${dir}/memory.max`)?.trim();
      if (cur !== undefined) ctx.currentMemoryLimit = cur === 'max' ? -1 : Number(cur);
      const limit = r.memory.limit ?? 0;
      if (opts.update && r.memory.checkBeforeUpdate && limit > 0) {
        const usage = Number(tryRead(`${dir}/memory.current`)?.trim() ?? 0);
        if (usage > limit) {
          throw new RuntsError(`linux.resources.memory.limit: rejecting memory limit ${limit} below the current usage ${usage} (checkBeforeUpdate)`, { op: 'cgroup set', path: `${dir}/memory.max` });
        }
      }
    }
    const plan = planV2(r, ctx);
    applyPlan(plan, () => dir, true);
    if (r.devices) attachDeviceFilter(dir, r.devices);
  }

  // ------------------------------------------------------------------ freeze

  freeze(): void {
    if (this.record.mode === 'v2') return freezeV2(this.need(''), true);
    freezeV1(this.need('freezer'));
  }

  thaw(): void {
    if (this.record.mode === 'v2') return freezeV2(this.need(''), false);
    writeCgroupFile(`${this.need('freezer')}/freezer.state`, 'THAWED');
  }

  frozen(): boolean {
    return cgroupFrozen(this.record);
  }

  private need(controller: string): string {
    const d = this.record.paths[controller];
    if (!d) {
      throw new RuntsError(controller === '' ? 'the container has no cgroup v2 directory'
        : `the ${controller} cgroup controller is not mounted on this host`, { op: 'cgroup' });
    }
    return d;
  }

  // -------------------------------------------------------------- processes

  pids(): number[] {
    const p = this.record.paths;
    const dir = p[''] ?? p.freezer ?? p.pids ?? p.devices ?? p.memory ?? p.cpu ?? Object.values(p)[0];
    if (!dir) return [];
    const out: number[] = [];
    const walk = (d: string) => {
      const txt = tryRead(`${d}/cgroup.procs`);
      if (txt === undefined) return;
      for (const l of txt.split('\n')) if (l.trim()) out.push(Number(l));
      for (const c of childDirs(d)) walk(c);
    };
    walk(dir);
    return uniq(out);
  }

  killAll(signal: number): void {
    const v2 = this.v2dir;
    if (signal === SIGKILL && v2 && exists(`${v2}/cgroup.kill`)) {
      writeCgroupFile(`${v2}/cgroup.kill`, '1');
      return;
    }
    // As runc: freeze so nothing forks while we signal, then thaw (a SIGKILLed
    // v1 task only dies once thawed).
    let frozeIt = false;
    try {
      if (this.record.mode === 'v2' ? !!v2 : !!this.record.paths.freezer) {
        this.freeze();
        frozeIt = true;
      }
    } catch {
      // signal anyway
    }
    try {
      for (const pid of this.pids()) {
        try {
          process.kill(pid, signal);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'ESRCH') throw new SyscallError('kill', errnoNumber(code ?? '') ?? 1, String(pid));
        }
      }
    } finally {
      if (frozeIt) this.thaw();
    }
  }

  // ----------------------------------------------------------------- destroy

  destroy(): void {
    const leaves = new Set(Object.values(this.record.paths));
    const errors: string[] = [];
    for (const dir of [...this.record.created].reverse()) {
      try {
        if (leaves.has(dir)) removeTree(dir); // with any sub-cgroups the container made
        else if (childDirs(dir).length === 0) rmdirRetry(dir); // a parent we created, unless others use it now
        else continue;
        this.record.created = this.record.created.filter((x) => x !== dir);
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
    }
    if (errors.length) throw new RuntsError(`cannot remove the container's cgroups: ${errors.join('; ')}`, { op: 'cgroup destroy' });
  }

  // ------------------------------------------------------------------- stats

  stats(): CgroupStats {
    return this.record.mode === 'v2' ? statsV2(this.need('')) : statsV1(this.record.paths);
  }

  oomKillCount(): number {
    if (this.record.mode === 'v2') return parseKeyValues(tryRead(`${this.need('')}/memory.events`)).oom_kill ?? 0;
    const m = this.record.paths.memory;
    return m ? parseKeyValues(tryRead(`${m}/memory.oom_control`)).oom_kill ?? 0 : 0;
  }
}

// ---------------------------------------------------------------------------

/** Write a pid to cgroup.procs; EINVAL may mean the task is still TASK_NEW, so retry (as runc). */
function writeProcs(dir: string, pid: number): void {
  for (let i = 0; ; i++) {
    try {
      writeCgroupFile(`${dir}/cgroup.procs`, String(pid));
      return;
    } catch (e) {
      if (errnoOf(e) === 'EINVAL' && i < 5) {
        sleepMs(30);
        continue;
      }
      throw e;
    }
  }
}

/**
 * A new v1 cpuset cgroup starts with empty cpuset.cpus/mems and cannot take
 * tasks until they are set: copy them down from the closest ancestor for
 * every level that is still empty (runc's cpuset ensureParent).
 */
function initCpuset(leaf: string): void {
  const chain: string[] = [];
  for (let d = leaf; d !== '/' && exists(`${parentDir(d)}/cpuset.cpus`); d = parentDir(d)) chain.unshift(d);
  for (const d of chain) {
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      if (readCgroupFile(`${d}/${f}`).trim() === '') {
        writeCgroupFile(`${d}/${f}`, readCgroupFile(`${parentDir(d)}/${f}`).trim() || '\n');
      }
    }
  }
}

/**
 * cgroup v2: enable, in every ancestor's cgroup.subtree_control from the
 * hierarchy root down to the container's parent, all the controllers that
 * ancestor has available (as runc's CreateCgroupPath). Failures of single
 * controllers are ignored here (threaded subtrees, delegation limits); a
 * later set() names the file that is missing.
 */
export function enableControllers(leaf: string, top?: string): void {
  const chain: string[] = [];
  for (let d = parentDir(leaf); d !== '/' && exists(`${d}/cgroup.subtree_control`); d = parentDir(d)) {
    chain.unshift(d);
    if (d === top) break;
  }
  for (const d of chain) {
    const want = controllersToEnable(tryRead(`${d}/cgroup.controllers`) ?? '', tryRead(`${d}/cgroup.subtree_control`) ?? '');
    if (want.length === 0) continue;
    try {
      writeCgroupFile(`${d}/cgroup.subtree_control`, want.map((c) => `+${c}`).join(' '));
    } catch {
      for (const c of want) {
        try {
          writeCgroupFile(`${d}/cgroup.subtree_control`, `+${c}`);
        } catch {
          // left to set()
        }
      }
    }
  }
}

/** Controllers available but not yet enabled for children. Pure. */
export function controllersToEnable(available: string, enabled: string): string[] {
  const on = new Set(enabled.split(/\s+/).filter(Boolean));
  return available.split(/\s+/).filter((c) => c && !on.has(c));
}

function applyPlan(plan: PlanEntry[], dirOf: (e: PlanEntry) => string, v2: boolean): void {
  const deferred: PlanEntry[] = [];
  const write = (e: PlanEntry, allowDefer: boolean) => {
    const dir = dirOf(e);
    const path = `${dir}/${e.file}`;
    try {
      writeCgroupFile(path, e.value);
    } catch (err) {
      const code = errnoOf(err);
      if (e.bestEffort) return;
      if (e.optional && code === 'ENOENT') return;
      if (allowDefer && e.retryOnEinval && code === 'EINVAL') {
        deferred.push(e);
        return;
      }
      throw explain(err, e, path, dir, v2);
    }
    if (e.verify) {
      const got = tryRead(path)?.trim();
      if (got !== undefined && got !== e.value) {
        throw new RuntsError(`${e.source}: the kernel stored ${got} in ${path} instead of ${e.value} (value out of the allowed range)`, { op: 'write', path });
      }
    }
  };
  for (const e of plan) write(e, true);
  for (const e of deferred) write(e, false);
}

function explain(err: unknown, e: PlanEntry, path: string, dir: string, v2: boolean): unknown {
  const code = errnoOf(err);
  if (code === 'ENOENT' && exists(dir)) {
    const hint = v2
      ? 'the kernel does not provide it, or its controller is not enabled in the parent\'s cgroup.subtree_control'
      : 'the kernel does not provide it';
    return new RuntsError(`${e.source}: cannot set ${e.file}: open ${path}: ENOENT (no such file or directory): ${hint}`, { op: 'open', path, errno: 'ENOENT' });
  }
  if (code === 'EBUSY' && e.file === 'memory.limit_in_bytes') {
    const usage = tryRead(`${dir}/memory.usage_in_bytes`)?.trim();
    const peak = tryRead(`${dir}/memory.max_usage_in_bytes`)?.trim();
    return new RuntsError(`${e.source}: unable to set memory limit to ${e.value} (current usage: ${usage}, peak usage: ${peak}): write ${path}: EBUSY (device or resource busy)`, { op: 'write', path, errno: 'EBUSY' });
  }
  if (err instanceof SyscallError) return new SyscallError(err.op ?? 'write', err.code, path, `${e.source} = ${JSON.stringify(e.value)}`);
  return err;
}

function freezeV1(dir: string): void {
  const state = `${dir}/freezer.state`;
  try {
    // A v1 cgroup can get stuck in FREEZING while tasks keep appearing; like
    // runc, retry, with an occasional thaw and growing pauses.
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 49) {
        writeCgroupFile(state, 'THAWED');
        sleepMs(10);
      }
      writeCgroupFile(state, 'FROZEN');
      if (i % 200 === 199) sleepMs(100 * (1 << Math.min(4, Math.floor(i / 200))));
      const s = readCgroupFile(state).trim();
      if (s === 'FROZEN') return;
      if (s !== 'FREEZING') throw new RuntsError(`unexpected freezer state ${s} while freezing ${dir}`, { path: state });
      sleepMs(1);
    }
    throw new RuntsError(`unable to freeze ${dir}: it stays FREEZING`, { path: state });
  } catch (e) {
    try {
      writeCgroupFile(state, 'THAWED');
    } catch {
      // the original error matters more
    }
    throw e;
  }
}

function freezeV2(dir: string, freeze: boolean): void {
  const file = `${dir}/cgroup.freeze`;
  if (!exists(file)) throw new RuntsError(`cannot ${freeze ? 'freeze' : 'thaw'} ${dir}: no cgroup.freeze (the kernel has no cgroup v2 freezer, Linux < 5.2)`, { path: file });
  writeCgroupFile(file, freeze ? '1' : '0');
  const want = freeze ? 1 : 0;
  // cgroup.events "frozen 1" once every task is stopped.
  let delay = 1;
  for (let waited = 0; waited < 10_000; waited += delay, delay = Math.min(delay * 2, 100)) {
    const ev = parseKeyValues(tryRead(`${dir}/cgroup.events`));
    if ((ev.frozen ?? want) === want) return;
    sleepMs(delay);
  }
  if (freeze) {
    try {
      writeCgroupFile(file, '0');
    } catch {
      // report the timeout
    }
  }
  throw new RuntsError(`timed out waiting for ${dir}/cgroup.events to show frozen ${want}`, { path: `${dir}/cgroup.events` });
}

/** A manager for a new container: resolves linux.cgroupsPath on this host. */
export function cgroupManager(id: string, cgroupsPath: string | undefined, opts: ManagerOptions = {}): CgroupManager {
  const host = opts.host ?? detectCgroups();
  const paths = resolveCgroupPaths(host, id, cgroupsPath, opts.own ?? ownCgroups);
  const rec: CgroupRecord = { mode: host.mode, paths, created: [] };
  if (host.mode === 'v2' && host.v2) rec.v2Mount = host.v2.mountpoint;
  return new Manager(rec);
}

/** Rebuild a manager from a saved record (e.g. in `runts delete`). */
export function cgroupManagerFromRecord(rec: CgroupRecord): CgroupManager {
  if (!rec || (rec.mode !== 'v1' && rec.mode !== 'v2' && rec.mode !== 'hybrid') || typeof rec.paths !== 'object' || !Array.isArray(rec.created)) {
    throw new RuntsError('invalid cgroup record in the container state', { op: 'cgroup' });
  }
  const copy: CgroupRecord = { mode: rec.mode, paths: { ...rec.paths }, created: [...rec.created] };
  if (typeof rec.v2Mount === 'string') copy.v2Mount = rec.v2Mount;
  return new Manager(copy);
}
