// npm run bench: runts side by side with runc and crun (when installed) on
// the same busybox bundle. Reports medians and the runts/other ratio.
//   run /bin/true           — the whole lifecycle in one command
//   create+start+delete     — what engines do (three processes)
//   state                   — the cost of one cheap command (node boot)
//   exec /bin/true          — engines' health checks
// Usage: node scripts/bench.mjs [iterations]   (default 20)
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, openSync, readFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.argv[2] ?? 20);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

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
writeFileSync(join(work, 'config.json'), JSON.stringify(config));

const runtimes = [['runts', join(root, 'dist/runts.cjs')]];
for (const name of ['runc', 'crun']) {
  const p = which(name);
  if (p) runtimes.push([name, p]);
  else console.log(`(${name} is not installed: apt-get install ${name} to compare)`);
}

function time(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// stderr goes to a file, never a pipe: a created container inherits it and
// would keep a pipe open until it exits.
const errFile = join(work, 'stderr');
function must(bin, args) {
  const fd = openSync(errFile, 'w');
  const r = spawnSync(bin, args, { env, stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: exit ${r.status}: ${readFileSync(errFile, 'utf8')}`);
}

const scenarios = {
  'run /bin/true': (bin, st, i) => must(bin, ['--root', st, 'run', '--bundle', work, `b-run-${i}`]),
  'create+start+delete': (bin, st, i) => {
    const id = `b-csd-${i}`;
    must(bin, ['--root', st, 'create', '--bundle', work, id]);
    must(bin, ['--root', st, 'start', id]);
    for (let k = 0; k < 200; k++) {
      const s = spawnSync(bin, ['--root', st, 'state', id], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      if (s.stdout.includes('"stopped"')) break;
    }
    must(bin, ['--root', st, 'delete', id]);
  },
};

const results = {};
for (const [name, bin] of [...runtimes]) {
  const st = join(work, `state-${name}`);
  try {
    results[name] = {};
    for (const [scen, fn] of Object.entries(scenarios)) {
      fn(bin, st, 'warm');
      results[name][scen] = median(Array.from({ length: N }, (_, i) => time(() => fn(bin, st, i))));
    }
    // A long-running container for the cheap commands and exec.
    const long = { ...config, process: { ...config.process, args: ['sleep', '1000'] } };
    writeFileSync(join(work, 'config.json'), JSON.stringify(long));
    must(bin, ['--root', st, 'run', '-d', '--bundle', work, 'b-state']);
    writeFileSync(join(work, 'config.json'), JSON.stringify(config));
    results[name].state = median(Array.from({ length: N }, () => time(() => must(bin, ['--root', st, 'state', 'b-state']))));
    results[name]['exec /bin/true'] = median(Array.from({ length: N }, () => time(() => must(bin, ['--root', st, 'exec', 'b-state', '/bin/true']))));
    must(bin, ['--root', st, 'delete', '--force', 'b-state']);
  } catch (e) {
    console.log(`(${name} cannot run this bundle here, left out: ${String(e.message).split('\n').pop().trim() || e.message})`);
    delete results[name];
    runtimes.splice(runtimes.findIndex(([n]) => n === name), 1);
  }
}
rmSync(work, { recursive: true, force: true });

const names = runtimes.map(([n]) => n);
const rows = Object.keys(results.runts);
console.log(`\nmedian wall time of ${N} runs (ms); ratio = runts / other\n`);
console.log(['scenario'.padEnd(22), ...names.map((n) => n.padStart(8)), ...names.slice(1).map((n) => `ratio/${n}`.padStart(12))].join(''));
for (const r of rows) {
  const vals = names.map((n) => results[n][r]);
  console.log([r.padEnd(22), ...vals.map((v) => v.toFixed(1).padStart(8)), ...vals.slice(1).map((v) => (vals[0] / v).toFixed(2).padStart(12))].join(''));
}
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2));

