/**
 * `events [--stats] [--interval D] <id>`: runc's event stream, one JSON
 * object per line (runc's types.Event):
 *   {"type":"stats","id":ID,"data":{cpu,cpuset,memory,pids,blkio,hugetlb,intel_rdt,network_interfaces}}
 *     every interval (the data is src/cgroups/stats.ts, runc's types.Stats);
 *   {"type":"oom","id":ID}
 *     when the container's memory cgroup reports an OOM: the oom_kill counter
 *     grew (v1 memory.oom_control, v2 memory.events), or (v1) under_oom went
 *     to 1 (the OOM killer is disabled and the cgroup is stuck at its limit).
 * `--stats` prints one stats event and exits. The stream ends (exit 0) when
 * the container stops.
 */
import * as fs from 'node:fs';
import type { CgroupManager } from '../cgroups/manager.js';
import { parseKeyValues } from '../cgroups/stats.js';
import { describeError, RuntsError } from '../common/errors.js';
import { logError } from '../common/log.js';
import { isAlive } from '../linux/proctree.js';
import { deriveStatus } from '../state/status.js';
import type { ContainerRecord, Store } from '../state/store.js';
import { managerOf } from './pause.js';

const UNITS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

/**
 * A Go time.Duration string ("5s", "500ms", "1m30s", "1.5h", "-2s", "0") in
 * milliseconds. Throws with Go's wording for anything else.
 */
export function parseGoDuration(text: string): number {
  const bad = () => new RuntsError(`time: invalid duration ${JSON.stringify(text)}`);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw bad();
  let total = 0;
  const re = /^([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/;
  while (s !== '') {
    const m = re.exec(s);
    if (!m || m[1] === '' || m[1] === '.') {
      if (/^[0-9.]+$/.test(s)) throw new RuntsError(`time: missing unit in duration ${JSON.stringify(text)}`);
      if (/^[0-9.]+/.test(s)) throw new RuntsError(`time: unknown unit ${JSON.stringify(s.replace(/^[0-9.]+/, '').replace(/[0-9.].*$/, ''))} in duration ${JSON.stringify(text)}`);
      throw bad();
    }
    total += Number(m[1]) * UNITS[m[2]!]!;
    s = s.slice(m[0].length);
  }
  return sign * total;
}

export interface EventsOptions {
  stats: boolean;
  /** Go duration text (runc's --interval). */
  interval: string;
  /** Where lines go (default: stdout). */
  write?: (line: string) => void;
}

function writeStdout(line: string): void {
  const buf = Buffer.from(line);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw e;
    }
  }
}

function statsEvent(id: string, mgr: CgroupManager): string {
  return JSON.stringify({ type: 'stats', id, data: mgr.stats() }) + '\n';
}

/** OOM state of the memory cgroup: kills so far and (v1) whether it is under OOM now. */
function oomState(rec: ContainerRecord, mgr: CgroupManager): { kills: number; under: boolean } {
  let kills = 0;
  try { kills = mgr.oomKillCount(); } catch { /* no memory cgroup */ }
  let under = false;
  const mem = rec.cgroup?.mode !== 'v2' ? rec.cgroup?.paths.memory : undefined;
  if (mem) {
    try { under = parseKeyValues(fs.readFileSync(`${mem}/memory.oom_control`, 'utf8')).under_oom === 1; } catch { /* gone */ }
  }
  return { kills, under };
}

const OOM_POLL_MS = 100;
/** setInterval's limit (longer delays would fire after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs until the container stops (or once with --stats); resolves to the exit code. */
export async function containerEvents(store: Store, id: string, opts: EventsOptions): Promise<number> {
  const write = opts.write ?? writeStdout;
  const rec = store.mustRead(id);
  let intervalMs: number;
  try {
    intervalMs = parseGoDuration(opts.interval);
  } catch (e) {
    throw new RuntsError(`invalid value ${JSON.stringify(opts.interval)} for flag --interval: ${(e as Error).message}`);
  }
  if (!(intervalMs > 0)) throw new RuntsError('duration interval must be greater than 0');
  const status = deriveStatus(store, rec);
  if (status === 'stopped') throw new RuntsError(`container with id ${id} is not running`, { op: 'events' });
  if (status === 'creating' || !rec.init) throw new RuntsError(`container with id ${id} is still being created`, { op: 'events' });
  const init = rec.init;
  const mgr = managerOf(rec, 'get events of');

  if (opts.stats) {
    write(statsEvent(id, mgr));
    return 0;
  }

  const alive = () => isAlive(init.pid, init.startTime);
  let last = oomState(rec, mgr);
  return await new Promise<number>((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const finish = (code: number) => {
      for (const t of timers) clearInterval(t);
      resolve(code);
    };
    const emit = (line: string): boolean => {
      try {
        write(line);
        return true;
      } catch (e) {
        // The reader went away (EPIPE): nothing more to do.
        logError(`events: ${describeError(e)}`);
        finish(1);
        return false;
      }
    };
    const pollOom = () => {
      // Liveness first: an OOM kill that ended the container is then
      // already counted when the counters are read.
      const running = alive();
      const now = oomState(rec, mgr);
      if (now.kills > last.kills || (now.under && !last.under)) {
        if (!emit(JSON.stringify({ type: 'oom', id }) + '\n')) return;
      }
      last = now;
      if (!running) finish(0);
    };
    timers.push(setInterval(pollOom, Math.min(OOM_POLL_MS, intervalMs)));
    timers.push(setInterval(() => {
      let line: string;
      try {
        line = statsEvent(id, mgr);
      } catch (e) {
        // As runc: a failed collection is logged and the stream goes on.
        logError(`events: ${describeError(e)}`);
        return;
      }
      emit(line);
    }, Math.min(intervalMs, MAX_TIMER_MS)));
  });
}
