/** Process-tree helpers built on /proc (no system calls beyond reads and kill). */
import * as fs from 'node:fs';

export interface ProcStat { pid: number; state: string; ppid: number; pgid: number; startTime: string }

/** Parse /proc/<pid>/stat; null when the process does not exist. */
export function procStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: rest[0]!, ppid: Number(rest[1]), pgid: Number(rest[2]), startTime: rest[19]! };
}

/** Is `pid` alive (not gone, not a zombie) and the same process (start time)? */
export function isAlive(pid: number, startTime?: string): boolean {
  const st = procStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || st.startTime === startTime;
}

/** All descendants of `root` (children first found, breadth-first). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = procStat(pid);
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(pid);
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** SIGKILL a process, its process group and every descendant. */
export function killTree(pid: number): void {
  const victims = [pid, ...descendants(pid)];
  try { process.kill(-pid, 'SIGKILL'); } catch { /* not a group leader or gone */ }
  for (const v of victims) {
    try { process.kill(v, 'SIGKILL'); } catch { /* already gone */ }
  }
}
