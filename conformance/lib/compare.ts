/**
 * Compare what the checker saw inside a container with the config.json the
 * container was created from. Each function asserts one aspect and names the
 * config field in its messages.
 */
import * as fs from 'node:fs';
import type { Report } from './checker.js';

/** The subset of tap's Test that the comparisons use. */
/* eslint-disable @typescript-eslint/no-explicit-any */
export interface TT {
  equal(...a: any[]): any;
  not(...a: any[]): any;
  same(...a: any[]): any;
  ok(...a: any[]): any;
  notOk(...a: any[]): any;
  match(...a: any[]): any;
  comment(...a: any[]): any;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

export function capMask(names: string[] | undefined): bigint {
  let m = 0n;
  for (const n of names ?? []) {
    const i = CAPS.indexOf(n as typeof CAPS[number]);
    if (i >= 0) m |= 1n << BigInt(i);
  }
  return m;
}

export function capNames(mask: bigint): string[] {
  return CAPS.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

/** This (the test's) process's bounding set: what any container here can get at most. */
export function hostBounding(): bigint {
  const st = fs.readFileSync('/proc/self/status', 'utf8');
  return BigInt('0x' + /^CapBnd:\s*([0-9a-f]+)/m.exec(st)![1]);
}

export function compareUser(t: TT, r: Report, cfg: Json): void {
  const u = cfg.process.user;
  const st = r.status;
  t.equal(st.Uid, `${u.uid}\t${u.uid}\t${u.uid}\t${u.uid}`, `process.user.uid ${u.uid}: real, effective, saved and fs uid`);
  t.equal(st.Gid, `${u.gid}\t${u.gid}\t${u.gid}\t${u.gid}`, `process.user.gid ${u.gid}: real, effective, saved and fs gid`);
  const groups = (st.Groups ?? '').split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b);
  const want = [...new Set<number>(u.additionalGids ?? [])].sort((a, b) => a - b);
  t.same(groups, want, `process.user.additionalGids ${JSON.stringify(u.additionalGids ?? [])}: supplementary groups`);
  if (u.umask !== undefined) t.equal(r.umask, u.umask.toString(8).padStart(4, '0'), `process.user.umask ${u.umask}`);
}

export function compareCwd(t: TT, r: Report, cfg: Json): void {
  t.ok(r.ok('cwd'), 'the checker could read its cwd');
  t.equal(r.data('cwd')[0], cfg.process.cwd.replace(/(.)\/+$/, '$1'), `process.cwd ${cfg.process.cwd}`);
  t.equal(r.data('cwd')[1], cfg.process.cwd.replace(/(.)\/+$/, '$1'), 'readlink /proc/self/cwd names the same directory in the container');
}

/** Extra variables a runtime may add on its own (runc adds HOME; socket activation adds LISTEN_*). */
export const RUNTIME_ADDED_ENV = new Set(['HOME', 'LISTEN_FDS', 'LISTEN_PID']);

export function compareEnv(t: TT, r: Report, cfg: Json): void {
  const want = new Map<string, string>();
  for (const kv of cfg.process.env ?? []) {
    const i = kv.indexOf('=');
    want.set(kv.slice(0, i), kv.slice(i + 1));
  }
  const got = new Map<string, string>();
  for (const kv of r.environ) {
    const i = kv.indexOf('=');
    if (i > 0) got.set(kv.slice(0, i), kv.slice(i + 1));
  }
  for (const [k, v] of want) t.equal(got.get(k), v, `process.env ${k}`);
  const extra = [...got.keys()].filter((k) => !want.has(k) && !RUNTIME_ADDED_ENV.has(k));
  t.same(extra, [], 'no environment variables beyond process.env (the runtime may add HOME)');
}

export function compareArgs(t: TT, r: Report, cfg: Json): void {
  t.same(r.cmdline, cfg.process.args, 'process.args is the argv of the container process');
}

export function compareRlimits(t: TT, r: Report, cfg: Json): void {
  const lim = r.limits;
  const fmt = (v: number | string) => (BigInt(v) >= 0xffffffffffffffffn ? 'unlimited' : String(v));
  for (const rl of cfg.process.rlimits ?? []) {
    t.same(lim[rl.type], { soft: fmt(rl.soft), hard: fmt(rl.hard) }, `process.rlimits ${rl.type} soft ${rl.soft} hard ${rl.hard}`);
  }
}

/**
 * The capability sets the container process must show after execve of a
 * binary without file capabilities, given the configured sets (capabilities(7)
 * "Transformation of capabilities during execve()"): a non-root user keeps
 * only its ambient set (permitted = effective = ambient); root gets
 * inheritable | bounding as permitted and effective, limited to the configured
 * permitted set under no_new_privs, and loses its ambient set.
 */
export function expectedCaps(cfg: Json, bounding = hostBounding()): Record<'CapBnd' | 'CapEff' | 'CapPrm' | 'CapInh' | 'CapAmb', bigint> {
  const c = cfg.process.capabilities ?? {};
  const B = capMask(c.bounding) & bounding;
  const I = capMask(c.inheritable) & bounding;
  const P = capMask(c.permitted) & bounding;
  const A = capMask(c.ambient) & P & I;
  if (cfg.process.user.uid === 0) {
    const prm = cfg.process.noNewPrivileges ? (I | B) & P : (I | B);
    return { CapBnd: B, CapInh: I, CapPrm: prm, CapEff: prm, CapAmb: 0n };
  }
  return { CapBnd: B, CapInh: I, CapPrm: A, CapEff: A, CapAmb: A };
}

export function compareCapabilities(t: TT, r: Report, cfg: Json, bounding = hostBounding()): void {
  if (!cfg.process.capabilities) return;
  const want = expectedCaps(cfg, bounding);
  for (const set of ['CapBnd', 'CapInh', 'CapPrm', 'CapEff', 'CapAmb'] as const) {
    t.same(capNames(r.cap(set)), capNames(want[set]), `process.capabilities: ${set} after exec`);
  }
}

export function compareNoNewPrivileges(t: TT, r: Report, cfg: Json): void {
  t.equal(r.status.NoNewPrivs, cfg.process.noNewPrivileges ? '1' : '0', `process.noNewPrivileges ${cfg.process.noNewPrivileges === true}`);
}

export function compareOomScoreAdj(t: TT, r: Report, cfg: Json, inherited: string): void {
  const want = cfg.process.oomScoreAdj !== undefined ? String(cfg.process.oomScoreAdj) : inherited;
  t.equal(r.first('oom_score_adj'), want, cfg.process.oomScoreAdj !== undefined
    ? `process.oomScoreAdj ${cfg.process.oomScoreAdj} is set`
    : `process.oomScoreAdj unset: the caller's value ${inherited} is unchanged`);
}

export function compareHostname(t: TT, r: Report, cfg: Json, host: { hostname: string; domainname: string }): void {
  t.equal(r.first('hostname'), cfg.hostname ?? host.hostname, `hostname ${cfg.hostname ?? '(unset: inherited)'}`);
  t.equal(r.first('domainname'), cfg.domainname ?? host.domainname, `domainname ${cfg.domainname ?? '(unset: inherited)'}`);
}

const NS_PROC: Record<string, string> = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time' };

export function compareNamespaces(t: TT, r: Report, cfg: Json, hostNs: Record<string, string>): void {
  const got = r.namespaces;
  const listed = new Map<string, { path?: string }>();
  for (const n of cfg.linux?.namespaces ?? []) listed.set(n.type, n);
  for (const [type, proc] of Object.entries(NS_PROC)) {
    if (!hostNs[proc] || !got[proc]) continue;
    const n = listed.get(type);
    if (!n) t.equal(got[proc], hostNs[proc], `namespace ${type} not listed: the runtime's is inherited`);
    else if (n.path) {
      const want = `${proc}:[${fs.statSync(n.path).ino}]`;
      t.equal(got[proc], want, `namespace ${type} joined by path ${n.path}`);
    } else t.not(got[proc], hostNs[proc], `namespace ${type} without path: a new one`);
  }
}

/** [option that sets a flag, option that clears it, the flag as mountinfo shows it]. */
const FLAG_OPTIONS: [string, string, string][] = [
  ['ro', 'rw', 'ro'], ['nosuid', 'suid', 'nosuid'], ['nodev', 'dev', 'nodev'], ['noexec', 'exec', 'noexec'],
  ['nodiratime', 'diratime', 'nodiratime'], ['nosymfollow', 'symfollow', 'nosymfollow'], ['sync', 'async', 'sync'],
  ['dirsync', '', 'dirsync'], ['lazytime', 'nolazytime', 'lazytime'], ['noatime', 'atime', 'noatime'],
];

/**
 * The flags mountinfo must show (has) or must not show (lacks) after the
 * options are applied left to right (the last one of a pair wins).
 */
export function expectedFlags(options: string[]): { has: Set<string>; lacks: Set<string> } {
  const state = new Map<string, boolean>();
  let atime: string | undefined;
  for (const o of options) {
    for (const [set, clear, flag] of FLAG_OPTIONS) {
      if (o === set) state.set(flag, true);
      if (o === clear) state.set(flag, false);
    }
    if (o === 'noatime' || o === 'relatime' || o === 'strictatime') atime = o;
    // clearing an atime mode leaves the choice to the kernel (relatime by default)
    if ((o === 'atime' && atime === 'noatime') || (o === 'norelatime' && atime === 'relatime') || (o === 'nostrictatime' && atime === 'strictatime')) atime = undefined;
  }
  if (atime === 'relatime') { state.set('relatime', true); state.set('noatime', false); }
  if (atime === 'strictatime') { state.set('relatime', false); state.set('noatime', false); }
  const has = new Set<string>();
  const lacks = new Set<string>();
  for (const [flag, on] of state) (on ? has : lacks).add(flag);
  return { has, lacks };
}

export function compareMount(t: TT, r: Report, mnt: Json): void {
  const dest = mnt.destination.startsWith('/') ? mnt.destination : `/${mnt.destination}`;
  const m = r.mountAt(dest.replace(/(.)\/+$/, '$1'));
  if (!t.ok(m, `mounts: ${dest} is a mount point`)) return;
  const opts: string[] = mnt.options ?? [];
  const isBind = opts.includes('bind') || opts.includes('rbind');
  if (!isBind && mnt.type && mnt.type !== 'none') {
    const alias: Record<string, string[]> = { cgroup: ['cgroup', 'cgroup2', 'tmpfs'], bind: [] };
    t.ok((alias[mnt.type] ?? [mnt.type]).includes(m!.fstype), `mounts: ${dest} has type ${mnt.type} (mountinfo: ${m!.fstype})`);
  }
  const { has, lacks } = expectedFlags(opts);
  const shown = `${m!.options.join(',')} - ${m!.superOptions.join(',')}`;
  for (const h of has) {
    const where = h === 'ro' ? m!.options : [...m!.options, ...m!.superOptions];
    t.ok(where.includes(h), `mounts: ${dest} option ${h} (mountinfo: ${shown})`);
  }
  for (const l of lacks) {
    const where = l === 'ro' ? m!.options : [...m!.options, ...m!.superOptions];
    t.notOk(where.includes(l), `mounts: ${dest} has no ${l} (mountinfo: ${shown})`);
  }
}

export function compareMounts(t: TT, r: Report, cfg: Json): void {
  // later mounts may cover earlier ones: compare only the last entry per destination
  const seen = new Set<string>();
  const list: Json[] = [...(cfg.mounts ?? [])].reverse().filter((m: Json) => {
    if (seen.has(m.destination)) return false;
    seen.add(m.destination);
    return true;
  }).reverse();
  for (const m of list) {
    if ((m.options ?? []).includes('remount')) continue;
    compareMount(t, r, m);
  }
}

export function compareRoot(t: TT, r: Report, cfg: Json): void {
  const root = r.mountAt('/');
  if (!t.ok(root, 'the container has a root mount')) return;
  if (cfg.root.readonly) t.ok(root!.options.includes('ro'), `root.readonly true: / is mounted ro (${root!.options.join(',')})`);
  else t.ok(root!.options.includes('rw'), `root.readonly unset/false: / is mounted rw (${root!.options.join(',')})`);
}

export function compareMaskedPaths(t: TT, r: Report, cfg: Json): void {
  for (const p of cfg.linux?.maskedPaths ?? []) {
    if (!r.probes.has(`path:${p}`)) continue;
    const d = r.data(`path:${p}`);
    if (!r.ok(`path:${p}`)) { t.comment(`maskedPaths ${p}: does not exist in the container (${d.join(' ')})`); continue; }
    const st = d[0]!;
    if (st.includes('directory')) t.equal(d[1], 'entries 0', `maskedPaths ${p}: the directory looks empty`);
    else t.equal(d[1], 'readable-bytes 0', `maskedPaths ${p}: the file reads as empty (${st})`);
    t.ok(r.mountAt(p), `maskedPaths ${p}: something is mounted over it`);
  }
}

export function compareReadonlyPaths(t: TT, r: Report, cfg: Json): void {
  for (const p of cfg.linux?.readonlyPaths ?? []) {
    const m = r.mountAt(p);
    if (!m) { t.comment(`readonlyPaths ${p}: no mount (path missing in the container?)`); continue; }
    t.ok(m.options.includes('ro'), `readonlyPaths ${p}: mounted read-only (${m.options.join(',')})`);
  }
}

const DEV_TYPE: Record<string, string> = { c: 'character special file', u: 'character special file', b: 'block special file', p: 'fifo' };

export function compareDevices(t: TT, r: Report, cfg: Json): void {
  const devs = r.devices;
  for (const d of cfg.linux?.devices ?? []) {
    if (!d.path.startsWith('/dev/') || d.path.split('/').length > 4) {
      // the checker lists /dev two levels deep; other paths need a path: probe
      const probe = r.probes.get(`path:${d.path}`);
      if (probe) t.ok(probe.ok && probe.data[0]!.includes(DEV_TYPE[d.type]!), `linux.devices ${d.path}: ${DEV_TYPE[d.type]} (${probe.data[0]})`);
      continue;
    }
    const e = devs.get(d.path);
    if (!t.ok(e, `linux.devices ${d.path} exists`)) continue;
    t.equal(e!.type, DEV_TYPE[d.type], `linux.devices ${d.path} type ${d.type}`);
    if (d.type !== 'p') t.same([e!.major, e!.minor], [d.major, d.minor], `linux.devices ${d.path} ${d.major}:${d.minor}`);
    if (d.fileMode !== undefined) t.equal(e!.mode, d.fileMode & 0o7777, `linux.devices ${d.path} fileMode ${d.fileMode.toString(8)}`);
    if (d.uid !== undefined) t.equal(e!.uid, d.uid, `linux.devices ${d.path} uid ${d.uid}`);
    if (d.gid !== undefined) t.equal(e!.gid, d.gid, `linux.devices ${d.path} gid ${d.gid}`);
  }
}

export const DEFAULT_DEVICES: [string, number, number][] = [
  ['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7], ['/dev/random', 1, 8], ['/dev/urandom', 1, 9], ['/dev/tty', 5, 0],
];

export function compareDefaultDevices(t: TT, r: Report): void {
  const devs = r.devices;
  for (const [p, maj, min] of DEFAULT_DEVICES) {
    const e = devs.get(p);
    t.ok(e && e.type === 'character special file' && e.major === maj && e.minor === min, `default device ${p} is char ${maj}:${min}`);
  }
  const ptmx = devs.get('/dev/ptmx');
  t.ok(ptmx && (ptmx.link === 'pts/ptmx' || ptmx.link === '/dev/pts/ptmx' || (ptmx.major === 5 && ptmx.minor === 2)),
    `default device /dev/ptmx is a symlink to or bind of pts/ptmx (${ptmx?.link ?? `${ptmx?.major}:${ptmx?.minor}`})`);
}

export const DEV_SYMLINKS: [string, string][] = [
  ['/dev/fd', '/proc/self/fd'], ['/dev/stdin', '/proc/self/fd/0'], ['/dev/stdout', '/proc/self/fd/1'], ['/dev/stderr', '/proc/self/fd/2'],
];

export function compareDevSymlinks(t: TT, r: Report): void {
  const devs = r.devices;
  for (const [p, target] of DEV_SYMLINKS) t.equal(devs.get(p)?.link, target, `${p} -> ${target}`);
}

/** Everything the report can say about a config (the parts a test did not change stay at their defaults). */
export function compareAll(t: TT, r: Report, cfg: Json, ctx: { hostNs: Record<string, string>; oomInherited: string; host: { hostname: string; domainname: string } }): void {
  t.ok(r.complete, `the checker report is complete (${r.probes.size} probes, plan ${r.plan})`);
  compareArgs(t, r, cfg);
  compareUser(t, r, cfg);
  compareCwd(t, r, cfg);
  compareEnv(t, r, cfg);
  compareRlimits(t, r, cfg);
  compareCapabilities(t, r, cfg);
  compareNoNewPrivileges(t, r, cfg);
  compareOomScoreAdj(t, r, cfg, ctx.oomInherited);
  compareHostname(t, r, cfg, ctx.host);
  compareNamespaces(t, r, cfg, ctx.hostNs);
  compareRoot(t, r, cfg);
  compareMounts(t, r, cfg);
  compareMaskedPaths(t, r, cfg);
  compareReadonlyPaths(t, r, cfg);
  compareDevices(t, r, cfg);
  compareDefaultDevices(t, r);
  compareDevSymlinks(t, r);
}

export function hostContext(): { hostNs: Record<string, string>; oomInherited: string; host: { hostname: string; domainname: string } } {
  const hostNs: Record<string, string> = {};
  for (const ns of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts']) {
    try { hostNs[ns] = fs.readlinkSync(`/proc/self/ns/${ns}`); } catch { /* none */ }
  }
  return {
    hostNs,
    oomInherited: fs.readFileSync('/proc/self/oom_score_adj', 'utf8').trim(),
    host: {
      hostname: fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(),
      domainname: fs.readFileSync('/proc/sys/kernel/domainname', 'utf8').trim(),
    },
  };
}
