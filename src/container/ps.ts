/**
 * `ps [--format table|json] <id> [ps options]`, as runc:
 *  - json: a JSON array of the host pids in the container's cgroup (what
 *    containerd's `ctr task ps` and `docker top` parse);
 *  - table: the host's ps(1) with the given options (default -ef): its
 *    header, then only the lines whose PID column is one of those pids.
 */
import { spawnSync } from 'node:child_process';
import { RuntsError } from '../common/errors.js';
import type { Store } from '../state/store.js';
import { cgroupProcesses } from './cgroup-procs.js';
import { managerOf } from './pause.js';

/** Index of the PID column in a ps header line. */
export function pidColumn(header: string): number {
  const i = header.trim().split(/\s+/).indexOf('PID');
  if (i < 0) throw new RuntsError("couldn't find PID field in ps output", { op: 'ps' });
  return i;
}

/** The header plus the lines of `output` whose PID column is in `pids`. Pure. */
export function filterPsOutput(output: string, pids: number[]): string {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const col = pidColumn(header);
  const want = new Set(pids);
  const out = [header];
  for (const line of lines.slice(1)) {
    if (line.length === 0) continue;
    const field = line.trim().split(/\s+/)[col];
    if (field === undefined || !/^[0-9]+$/.test(field)) {
      throw new RuntsError(`unable to parse pid: ${JSON.stringify(field ?? '')} in line ${JSON.stringify(line)}`, { op: 'ps' });
    }
    if (want.has(Number(field))) out.push(line);
  }
  return out.join('\n') + '\n';
}

export function containerPs(store: Store, id: string, format: string, psArgs: string[]): string {
  const rec = store.mustRead(id);
  // a rootless container may have no cgroup: its pid namespace's processes (src/container/ns-procs.ts)
  const pids = (rec.cgroup ? managerOf(rec, 'list processes of').pids() : cgroupProcesses(rec)).sort((a, b) => a - b);
  if (format === 'json') return JSON.stringify(pids) + '\n';
  if (format !== 'table') throw new RuntsError('invalid format option', { op: 'ps' });
  const args = psArgs.length > 0 ? psArgs : ['-ef'];
  const r = spawnSync('ps', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw new RuntsError(`ps ${args.join(' ')}: ${r.error.message}`, { op: 'exec', path: 'ps', cause: r.error });
  const output = (r.stdout ?? '') + (r.stderr ?? '');
  if (r.status !== 0) {
    throw new RuntsError(`ps ${args.join(' ')}: ${r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`}: ${output.trim()}`, { op: 'ps' });
  }
  // runc reads the combined output; a warning on stderr would come first and
  // hide the header, so parse stdout and keep stderr out of the table.
  return filterPsOutput(r.stdout ?? '', pids);
}
