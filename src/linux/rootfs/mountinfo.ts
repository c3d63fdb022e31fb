/**
 * /proc/<pid>/mountinfo parsing (proc(5)). Used before pivot_root on the
 * host's procfs only (trusted), and by the tests to check what the kernel shows.
 */

export interface MountInfo {
  id: number;
  parent: number;
  major: number;
  minor: number;
  /** Root of the mount within its filesystem. */
  root: string;
  mountpoint: string;
  /** Per-mount options: rw/ro, nosuid, nodev, noexec, relatime, ... */
  options: string[];
  /** Optional fields: shared:N, master:N, propagate_from:N, unbindable. */
  optional: string[];
  fstype: string;
  source: string;
  /** Superblock options. */
  superOptions: string[];
}

/** Undo the octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 3) continue;
    const [maj, min] = f[2]!.split(':');
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      major: Number(maj),
      minor: Number(min),
      root: unescapeMountinfo(f[3]!),
      mountpoint: unescapeMountinfo(f[4]!),
      options: f[5]!.split(','),
      optional: f.slice(6, sep),
      fstype: f[sep + 1]!,
      source: unescapeMountinfo(f[sep + 2]!),
      superOptions: (f[sep + 3] ?? '').split(',').filter(Boolean),
    });
  }
  return out;
}

/** True if `p` is `dir` or lies below it (component-wise). */
export function isUnder(p: string, dir: string): boolean {
  if (dir === '/') return p.startsWith('/');
  return p === dir || p.startsWith(dir + '/');
}

/** The topmost mount whose mountpoint contains `p` (a cleaned absolute path without symlinks). */
export function mountContaining(mounts: MountInfo[], p: string): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const m of mounts) {
    if (!isUnder(p, m.mountpoint)) continue;
    // Later lines are mounted later, so on equal mountpoints the last one is on top.
    if (!best || m.mountpoint.length >= best.mountpoint.length) best = m;
  }
  return best;
}
