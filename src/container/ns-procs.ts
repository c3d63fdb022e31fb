/**
 * The processes of a container without a cgroup of its own (a rootless
 * container whose cgroups the user may not write, src/cgroups/rootless.ts):
 * with its own pid namespace, every process of the host in that namespace
 * (the init, its children, and `exec`'d processes, which are not the init's
 * descendants); without one, the init and its descendants.
 */
import * as fs from 'node:fs';
import { descendants, isAlive } from '../linux/proctree.js';
import type { ContainerRecord } from '../state/store.js';

function nsIno(pid: number): number | undefined {
  try {
    return fs.statSync(`/proc/${pid}/ns/pid`).ino;
  } catch {
    return undefined; // gone, or another user's
  }
}

export function namespaceProcesses(rec: ContainerRecord): number[] {
  const init = rec.init;
  if (!init || !isAlive(init.pid, init.startTime)) return [];
  if (!rec.pidns) return [init.pid, ...descendants(init.pid)];
  const ino = nsIno(init.pid);
  if (ino === undefined) return [];
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0 && nsIno(pid) === ino) out.push(pid);
  }
  return out;
}
