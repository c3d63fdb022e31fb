// The embedded demo: build a busybox bundle in /tmp/runts-demo (from the
// host's busybox-static) and run a container from it with runts.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runts = join(root, 'dist/runts.cjs');
const busybox = '/bin/busybox';
if (!existsSync(busybox)) {
  console.error('demo: /bin/busybox is missing: apt-get install busybox-static');
  process.exit(1);
}
const bundle = '/tmp/runts-demo';
rmSync(bundle, { recursive: true, force: true });
const rootfs = join(bundle, 'rootfs');
for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root']) mkdirSync(join(rootfs, d), { recursive: true });
copyFileSync(busybox, join(rootfs, 'bin/busybox'));
chmodSync(join(rootfs, 'bin/busybox'), 0o755);
for (const a of execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
  if (a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
}
writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');

execFileSync(runts, ['spec', '--bundle', bundle], { stdio: 'inherit' });
const cfg = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
cfg.process.terminal = false;
cfg.process.args = ['sh', '-c', [
  'echo "hello from a runts container"',
  'echo "hostname: $(hostname)"',
  'echo "pid: $$ (pid namespace)"',
  'echo "root is read-only: $(touch /x 2>/dev/null && echo no || echo yes)"',
  'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status',
  'ls /',
].join('; ')];
writeFileSync(join(bundle, 'config.json'), JSON.stringify(cfg, null, 2));

const id = `demo-${process.pid}`;
console.log(`$ runts run --bundle ${bundle} ${id}`);
const r = spawnSync(runts, ['run', '--bundle', bundle, id], { stdio: 'inherit' });
console.log(`(exit status ${r.status})`);
process.exit(r.status ?? 1);
