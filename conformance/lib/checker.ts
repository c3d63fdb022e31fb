/**
 * The in-container checker (conformance/checker/checker.sh) and its report:
 * a TAP stream with one test point per probe and "# " data lines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const CHECKER_SOURCE = fs.readFileSync(path.join(__dirname, '../checker/checker.sh'), 'utf8');

/** process.args that run the checker with extra probes (sysctl:K, path:P, write:P, run:CMD, sleep:N). */
export function checkerArgs(probes: string[] = []): string[] {
  return ['sh', '-c', CHECKER_SOURCE, 'checker', ...probes];
}

export interface Probe { ok: boolean; data: string[] }

export interface MountEntry {
  id: number; parent: number; major: string; root: string; mountpoint: string;
  options: string[]; optional: string[]; fstype: string; source: string; superOptions: string[];
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(lines: string[]): MountEntry[] {
  const out: MountEntry[] = [];
  for (const l of lines) {
    const f = l.split(' ');
    const sep = f.indexOf('-');
    if (f.length < 10 || sep < 6) continue;
    out.push({
      id: Number(f[0]), parent: Number(f[1]), major: f[2]!, root: unescapeMount(f[3]!), mountpoint: unescapeMount(f[4]!),
      options: f[5]!.split(','), optional: f.slice(6, sep), fstype: f[sep + 1]!, source: unescapeMount(f[sep + 2]!),
      superOptions: (f[sep + 3] ?? '').split(','),
    });
  }
  return out;
}

export interface Limit { soft: string; hard: string }

const LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU', 'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA', 'Max stack size': 'RLIMIT_STACK',
  'Max core file size': 'RLIMIT_CORE', 'Max resident set': 'RLIMIT_RSS', 'Max processes': 'RLIMIT_NPROC', 'Max open files': 'RLIMIT_NOFILE',
  'Max locked memory': 'RLIMIT_MEMLOCK', 'Max address space': 'RLIMIT_AS', 'Max file locks': 'RLIMIT_LOCKS', 'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE', 'Max realtime priority': 'RLIMIT_RTPRIO', 'Max realtime timeout': 'RLIMIT_RTTIME',
};

export interface DevEntry { path: string; type: string; major: number; minor: number; mode: number; uid: number; gid: number; link?: string }

export class Report {
  readonly probes = new Map<string, Probe>();
  readonly plan: number | null;
  constructor(readonly raw: string) {
    let current: Probe | null = null;
    let plan: number | null = null;
    for (const line of raw.split('\n')) {
      const m = /^(not ok|ok) \d+ - (.*)$/.exec(line);
      if (m) {
        current = { ok: m[1] === 'ok', data: [] };
        this.probes.set(m[2]!, current);
        continue;
      }
      const p = /^1\.\.(\d+)$/.exec(line);
      if (p) { plan = Number(p[1]); current = null; continue; }
      if (current && line.startsWith('# ')) current.data.push(line.slice(2));
      else if (current && line === '#') current.data.push('');
    }
    this.plan = plan;
  }

  /** The report is complete (the checker reached its plan line). */
  get complete(): boolean {
    return this.plan !== null && this.plan === this.probes.size;
  }

  data(name: string): string[] {
    const p = this.probes.get(name);
    if (!p) throw new Error(`checker report has no probe "${name}"\n${this.raw.slice(0, 2000)}`);
    return p.data;
  }

  ok(name: string): boolean {
    return this.probes.get(name)?.ok === true;
  }

  first(name: string): string {
    return this.data(name)[0] ?? '';
  }

  /** fd number -> link target. */
  get fds(): Map<number, string> {
    const m = new Map<number, string>();
    for (const l of this.data('fds')) {
      const i = l.indexOf(' ');
      m.set(Number(l.slice(0, i)), l.slice(i + 1));
    }
    return m;
  }

  get pid(): number { return Number(this.first('pid')); }
  get umask(): string { return this.first('umask'); }
  get cwd(): string { return this.first('cwd'); }

  private nulList(name: string): string[] {
    return this.data(name).map((s) => s.replace(/\x1e/g, '\n'));
  }
  get environ(): string[] { return this.nulList('environ'); }
  get cmdline(): string[] { return this.nulList('cmdline'); }

  /** /proc/PID/status as key -> value. */
  get status(): Record<string, string> {
    const o: Record<string, string> = {};
    for (const l of this.data('status')) {
      const i = l.indexOf(':');
      if (i > 0) o[l.slice(0, i)] = l.slice(i + 1).trim();
    }
    return o;
  }

  cap(set: 'CapInh' | 'CapPrm' | 'CapEff' | 'CapBnd' | 'CapAmb'): bigint {
    return BigInt('0x' + this.status[set]);
  }

  /** RLIMIT_X -> soft/hard as printed by the kernel ("unlimited" or a number). */
  get limits(): Record<string, Limit> {
    const o: Record<string, Limit> = {};
    for (const l of this.data('limits').slice(1)) {
      const name = l.slice(0, 26).trim();
      const [soft, hard] = l.slice(26).trim().split(/\s+/);
      if (LIMIT_NAMES[name]) o[LIMIT_NAMES[name]!] = { soft: soft!, hard: hard! };
    }
    return o;
  }

  get mounts(): MountEntry[] { return parseMountinfo(this.data('mountinfo')); }

  /** The visible mount at a mount point (the last one mounted there). */
  mountAt(mp: string): MountEntry | undefined {
    const all = this.mounts.filter((m) => m.mountpoint === mp);
    // the visible one is the one no other entry at the same point is mounted on top of
    return all.find((m) => !all.some((o) => o.parent === m.id)) ?? all[all.length - 1];
  }

  get namespaces(): Record<string, string> {
    const o: Record<string, string> = {};
    for (const l of this.data('ns')) {
      const [k, v] = l.split(' ');
      if (k && v) o[k] = v;
    }
    return o;
  }

  /** cgroup v1 controller (or "" for v2 / hybrid unified) -> path. */
  get cgroups(): Record<string, string> {
    const o: Record<string, string> = {};
    for (const l of this.data('cgroup')) {
      const [, ctrls, p] = /^\d+:([^:]*):(.*)$/.exec(l) ?? [];
      if (ctrls === undefined || p === undefined) continue;
      for (const c of ctrls.split(',')) o[c] = p;
    }
    return o;
  }

  get sched(): Record<string, string> {
    const o: Record<string, string> = {};
    for (const l of this.data('sched')) {
      const m = /^([a-z]+)[:=](.*)$/.exec(l);
      if (m) o[m[1]!] = m[2]!.trim();
    }
    return o;
  }

  get devices(): Map<string, DevEntry> {
    const m = new Map<string, DevEntry>();
    for (const l of this.data('dev')) {
      const f = l.split('|');
      if (f[1] === '->') {
        const e = m.get(f[0]!);
        if (e) e.link = f[2];
        continue;
      }
      if (f.length < 7) continue;
      m.set(f[0]!, { path: f[0]!, type: f[1]!, major: parseInt(f[2]!, 16), minor: parseInt(f[3]!, 16), mode: parseInt(f[4]!, 8), uid: Number(f[5]), gid: Number(f[6]) });
    }
    return m;
  }

  /** The result of a run:CMD probe: output lines and exit status. */
  run(cmd: string): { out: string; exit: number } {
    const d = this.data(`run:${cmd}`);
    const last = d[d.length - 1] ?? '';
    return { out: d.slice(0, -1).join('\n'), exit: Number(last.replace(/^exit=/, '')) };
  }
}

export function parseReport(stdout: string): Report {
  return new Report(stdout);
}
