// npm run bench: runts side by side with runc and crun (when they run here) on
// the same busybox bundle, every row of issue 13's table:
//   run /bin/true                — the whole lifecycle in one command
//   create+start+wait+delete     — as conmon/the shim do it: create with a pid file,
//                                  start, wait for that pid to go (no state polls), delete
//   exec /bin/true               — engines' health checks, into a running container
//   state, list                  — the cost of one cheap command, also against `node -e 0`
//   PSS of 1 and 20 created containers — memory of the processes waiting for `start`
// Time rows are measured interleaved (runts, runc, crun, node -e 0, runts, ...), so that
// the machine's load, which drifts, hits every runtime alike: the ratio is the median of
// the per-round ratios, with its interquartile range as the spread. Medians in ms. CPU:
// the CPU time of each command and the processes it waited for, as a second ratio.
// Usage: node scripts/bench.mjs [iterations (default 20)] [--readme: rewrite README.md's speed table]
//        BENCH_JSON=file: the raw numbers as JSON
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, openSync, readFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchImage } from './bench-image.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 20);
const README = args.includes('--readme');
const MEM_MANY = 20;
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const work = mkdtempSync(join(tmpdir(), 'runts-bench-'));
const rootfs = join(work, 'rootfs');
for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
chmodSync(join(rootfs, 'bin/busybox'), 0o755);
for (const a of ['sh', 'true', 'sleep']) symlinkSync('busybox', join(rootfs, 'bin', a));
const config = {
  ociVersion: '1.0.2',
  process: {
    terminal: false, user: { uid: 0, gid: 0 }, args: ['/bin/true'], env: ['PATH=/bin'], cwd: '/',
    capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
    noNewPrivileges: true,
  },
  root: { path: 'rootfs', readonly: true },
  hostname: 'bench',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  ],
  linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }] },
};
// two bundles: /bin/true, and a long-running one for exec, state and the created containers
const bundles = { short: join(work, 'short'), long: join(work, 'long') };
for (const [k, dir] of Object.entries(bundles)) {
  mkdirSync(dir);
  const args = k === 'short' ? ['/bin/true'] : ['sleep', '100000'];
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, root: { ...config.root, path: rootfs }, process: { ...config.process, args } }));
}

// BENCH_RUNTS=/path/to/other/dist/runts.cjs: another build in the runts column (before/after)
const runtimes = [['runts', process.env.BENCH_RUNTS ?? join(root, 'dist/runts.cjs')]];
for (const name of ['runc', 'crun']) {
  const p = which(name);
  if (p) runtimes.push([name, p]);
  else console.log(`(${name} is not installed: apt-get install ${name} to compare)`);
}

// stderr goes to a file, never a pipe: a created container inherits it and
// would keep a pipe open until it exits.
const errFile = join(work, 'stderr');
function must(bin, argv) {
  const fd = openSync(errFile, 'w');
  const r = spawnSync(bin, argv, { env, stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  if (r.status !== 0) throw new Error(`${bin} ${argv.join(' ')}: exit ${r.status}: ${readFileSync(errFile, 'utf8')}`);
}
// CPU time of the waited-for children (utime + stime of everything they reaped
// too, /proc/self/stat cutime and cstime): less sensitive than the wall clock to
// the other work on a shared machine, which delays every hand-off between processes.
const TICK_MS = 1000 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100);
function childCpuMs() {
  const s = readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * TICK_MS;
}
let lastCpu = 0;
function ms(fn) {
  const c0 = childCpuMs();
  const t0 = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  lastCpu = childCpuMs() - c0;
  return wall;
}
/** Gone or a zombie: /proc/PID/stat's state field. */
function exited(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return true;
  }
}
const sleepMs = (n) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, n);

// Container ids carry this run's pid: the cgroup path is made from the id
// (/runts/ID, /ID), so two benches (or a test) with the same ids would share
// cgroups, and one's `delete --force` would kill the other's containers.
const ID = (name) => `bench${process.pid}-${name}`;
const LONG = ID('long');
const scenarios = {
  'run /bin/true': (bin, st, i) => ms(() => must(bin, ['--root', st, 'run', '--bundle', bundles.short, ID(`run-${i}`)])),
  'create+start+wait+delete': (bin, st, i) => {
    const id = ID(`csd-${i}`);
    const pidFile = join(work, `${id}.pid`);
    return ms(() => {
      must(bin, ['--root', st, 'create', '--bundle', bundles.short, '--pid-file', pidFile, id]);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      must(bin, ['--root', st, 'start', id]);
      for (let k = 0; k < 10_000 && !exited(pid); k++) sleepMs(1);
      must(bin, ['--root', st, 'delete', id]);
    });
  },
  'exec /bin/true': (bin, st) => ms(() => must(bin, ['--root', st, 'exec', LONG, '/bin/true'])),
  state: (bin, st) => ms(() => must(bin, ['--root', st, 'state', LONG])),
  list: (bin, st) => ms(() => must(bin, ['--root', st, 'list'])),
};
const NODE_ROWS = ['state', 'list'];

const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))]; };
const stateDir = (name) => join(work, `state-${name}`);

// Which runtimes run this bundle here (crun 1.8 refuses a hybrid cgroup layout).
for (const [name, bin] of [...runtimes]) {
  try {
    scenarios['run /bin/true'](bin, stateDir(name), 'probe');
    must(bin, ['--root', stateDir(name), 'run', '-d', '--bundle', bundles.long, LONG]);
  } catch (e) {
    console.log(`(${name} cannot run this bundle here, left out: ${String(e.message).split('\n').filter(Boolean).pop()?.trim()})`);
    runtimes.splice(runtimes.findIndex(([n]) => n === name), 1);
  }
}
const names = runtimes.map(([n]) => n);

const times = {}; // scenario -> runtime|'node -e 0' -> [ms]
const cpu = {}; // scenario -> runtime|'node -e 0' -> total CPU ms over the rounds
try {
  for (const scen of Object.keys(scenarios)) {
    times[scen] = Object.fromEntries(names.map((n) => [n, []]));
    cpu[scen] = Object.fromEntries(names.map((n) => [n, 0]));
    if (NODE_ROWS.includes(scen)) { times[scen]['node -e 0'] = []; cpu[scen]['node -e 0'] = 0; }
    for (const [name, bin] of runtimes) scenarios[scen](bin, stateDir(name), 'warm');
    for (let i = 0; i < N; i++) {
      for (const [name, bin] of runtimes) {
        times[scen][name].push(scenarios[scen](bin, stateDir(name), i));
        cpu[scen][name] += lastCpu;
      }
      if (NODE_ROWS.includes(scen)) {
        times[scen]['node -e 0'].push(ms(() => must(process.execPath, ['-e', '0'])));
        cpu[scen]['node -e 0'] += lastCpu;
      }
    }
  }
} finally {
  for (const [name, bin] of runtimes) spawnSync(bin, ['--root', stateDir(name), 'delete', '--force', LONG], { env, stdio: 'ignore' });
}

// Memory: PSS (and USS: private pages, which do not depend on what else runs) of the
// processes of created containers, waiting for `start` (the runtime's init).
function smaps(pid) {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const f = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? 0);
  return { pss: f('Pss'), uss: f('Private_Clean') + f('Private_Dirty') };
}
const mem = {}; // runtime -> count -> {pss, uss} in KiB
// A waiting process that vanished (the shared machine: another session's
// cleanup, an OOM kill) voids that sample: it is retried, and reported as n/a
// after three tries rather than losing the time rows measured above.
function measureCreated(name, bin, count) {
  const st = join(work, `mem-${name}-${count}`);
  const pids = [];
  try {
    for (let i = 0; i < count; i++) {
      const pidFile = join(work, `mem-${name}-${i}.pid`);
      must(bin, ['--root', st, 'create', '--bundle', bundles.long, '--pid-file', pidFile, ID(`m${i}`)]);
      pids.push(Number(readFileSync(pidFile, 'utf8')));
    }
    sleepMs(500);
    const all = pids.map(smaps);
    return { pss: all.reduce((a, m) => a + m.pss, 0), uss: all.reduce((a, m) => a + m.uss, 0) };
  } finally {
    for (let i = 0; i < count; i++) spawnSync(bin, ['--root', st, 'delete', '--force', ID(`m${i}`)], { env, stdio: 'ignore' });
  }
}
for (const [name, bin] of runtimes) {
  mem[name] = {};
  for (const count of [1, MEM_MANY]) {
    for (let attempt = 1; attempt <= 3 && !mem[name][count]; attempt++) {
      try {
        mem[name][count] = measureCreated(name, bin, count);
      } catch (e) {
        console.log(`(${name}, ${count} created: ${String(e.message).split('\n')[0]}${attempt < 3 ? ', measured again' : ''})`);
      }
    }
  }
}
// runts image unpack against umoci unpack of the same image (scripts/bench-image.mjs)
const imageTable = benchImage(work, runtimes[0][1], Math.min(N, 10), env);
rmSync(work, { recursive: true, force: true });

// ---------------------------------------------------------------------------
const lines = [];
const fmt = (x, d = 1) => x.toFixed(d);
const others = names.slice(1);
lines.push(`| measure | ${names.map((n) => `${n}, ms`).join(' | ')} | ${others.map((o) => `runts / ${o}`).join(' | ')} | ${others.map((o) => `CPU: runts / ${o}`).join(' | ')} |`);
lines.push(`|---|${names.map(() => '---|').join('')}${others.map(() => '---|').join('')}${others.map(() => '---|').join('')}`);
const cpuRatio = (scen, a, b) => (cpu[scen][b] > 0 ? `${fmt(cpu[scen][a] / cpu[scen][b], 2)}×` : 'n/a');
const blank = others.map(() => '').join(' | ');
for (const scen of Object.keys(scenarios)) {
  const t = times[scen];
  const cell = (n) => `${fmt(q(t[n], 0.5))} (${fmt(q(t[n], 0.25), 0)}–${fmt(q(t[n], 0.75), 0)})`;
  const ratio = (o) => {
    const r = t.runts.map((v, i) => v / t[o][i]);
    return `${fmt(q(r, 0.5), 2)}× (${fmt(q(r, 0.25), 2)}–${fmt(q(r, 0.75), 2)})`;
  };
  lines.push(`| \`${scen}\` | ${names.map(cell).join(' | ')} | ${others.map(ratio).join(' | ')} | ${others.map((o) => cpuRatio(scen, 'runts', o)).join(' | ')} |`);
  if (t['node -e 0']) {
    const vsNode = (n) => {
      const r = t[n].map((v, i) => v / t['node -e 0'][i]);
      return `${fmt(q(r, 0.5), 2)}× (${fmt(q(r, 0.25), 2)}–${fmt(q(r, 0.75), 2)})`;
    };
    lines.push(`| \`${scen}\` / \`node -e 0\` (${fmt(q(t['node -e 0'], 0.5))} ms) | ${names.map(vsNode).join(' | ')} | ${blank} | ${cpuRatio(scen, 'runts', 'node -e 0')}${others.length > 1 ? ` | ${others.slice(1).map(() => '').join(' | ')}` : ''} |`);
  }
}
for (const count of [1, MEM_MANY]) {
  const m = (n, k) => (mem[n][count] ? `${fmt(mem[n][count][k] / 1024)} MiB` : 'n/a');
  const ratio = (o, k) => (mem.runts[count] && mem[o][count] ? `${fmt(mem.runts[count][k] / mem[o][count][k], 2)}×` : 'n/a');
  lines.push(`| PSS of ${count} created container${count > 1 ? 's' : ''} | ${names.map((n) => m(n, 'pss')).join(' | ')} | ${others.map((o) => ratio(o, 'pss')).join(' | ')} | ${blank} |`);
  lines.push(`| USS of ${count} created container${count > 1 ? 's' : ''} | ${names.map((n) => m(n, 'uss')).join(' | ')} | ${others.map((o) => ratio(o, 'uss')).join(' | ')} | ${blank} |`);
}
const legend = `Medians of ${N} interleaved rounds in ms with the interquartile range in parentheses; a ratio is the median of the per-round ratios (runts and the other runtime measured back to back), with its interquartile range. CPU: the ratio of the CPU time (user + system) of the command and every process it waited for, summed over the rounds; it is less disturbed than the wall clock by other work on the machine, but leaves out what nobody waits for (the init of \`create\` in \`create+start+wait+delete\`, for every runtime). PSS/USS: the waiting processes of created containers (their init), summed; USS counts only private pages, PSS also a share of the pages shared with every other process of the same binary (node's code: it depends on how many node processes run on the machine).`;
console.log(`\n${lines.join('\n')}\n\n${legend}`);
console.log(`\n${imageTable}`);
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ N, times, cpu, mem }, null, 2));

if (README) {
  const file = join(root, 'README.md');
  const text = readFileSync(file, 'utf8');
  const begin = '<!-- bench:begin (generated by `node scripts/bench.mjs --readme`) -->';
  const end = '<!-- bench:end -->';
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error('README.md has no bench markers');
  const host = `node ${process.version}, ${names.join(', ')}; ${new Date().toISOString().slice(0, 10)}`;
  writeFileSync(file, `${text.slice(0, a + begin.length)}\n${lines.join('\n')}\n\n${legend} (${host})\n${text.slice(b)}`);
  console.log('README.md: speed table rewritten');
}
if (!process.env.BENCH_RUNTS && !existsSync(join(root, 'dist/cli.cache'))) console.log('(dist/cli.cache is missing: runts ran without its code cache)');
