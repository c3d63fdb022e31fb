/**
 * Differential test: the same bundle (runc's default config, as `runts spec`
 * writes it) run by runc and by runts. What the container sees must match:
 * mounts and their options, /dev, capabilities, no_new_privs, seccomp mode,
 * identity, hostname, rlimits, masked and read-only paths.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { makeBusyboxRootfs, tmpdir } from '../helpers/rootfs.js';
import { cleanEnv, RUNTS, uniqueId } from '../helpers/runts.js';
import { cannotRunContainers, RUNC } from '../helpers/cli.js';

const runc = RUNC;

// What the container reports: stable facts only (no mount ids, no inode numbers).
const PROBE = [
  'echo "== mounts"; while read id parent dev root mnt opts rest; do echo "$mnt $opts"; done < /proc/self/mountinfo | sort',
  'echo "== fstypes"; while read id parent dev root mnt opts rest; do set -- $rest; while [ "$1" != "-" ]; do shift; done; echo "$mnt $2"; done < /proc/self/mountinfo | sort',
  'echo "== dev"; ls -l /dev | while read mode links u g a b rest; do echo "$mode $u $g $a $b ${rest##* }"; done | sort',
  'echo "== status"; grep -E "^(Cap|NoNewPrivs|Seccomp:|Uid|Gid|Groups)" /proc/self/status',
  'echo "== ids"; id; hostname; pwd; umask',
  'echo "== limits"; grep -E "Max (open files|processes)" /proc/self/limits',
  'echo "== masked"; cat /proc/kcore 2>&1 | head -c 60; echo; ls /sys/firmware 2>&1; echo',
  'echo "== readonly"; touch /proc/sys/x 2>&1; echo 1 > /proc/sysrq-trigger 2>&1; echo',
  'echo "== env"; env | sort',
].join('; ');

function bundleFor(rootfs: string, specCmd: string[]): string {
  const dir = tmpdir('runts-parity-');
  fs.symlinkSync(rootfs, path.join(dir, 'rootfs'));
  const r = spawnSync(specCmd[0]!, [...specCmd.slice(1), '--bundle', dir], { env: cleanEnv(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${specCmd.join(' ')} spec failed: ${r.stderr}`);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  cfg.process.terminal = false;
  cfg.process.args = ['sh', '-c', PROBE];
  cfg.root.path = rootfs;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  return dir;
}

function runWith(bin: string, bundle: string, root: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(bin, ['--root', root, 'run', '--bundle', bundle, uniqueId('parity')], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function sections(out: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  let cur = '';
  for (const line of out.split('\n')) {
    if (line.startsWith('== ')) { cur = line.slice(3); m.set(cur, []); continue; }
    if (cur) m.get(cur)!.push(line);
  }
  return m;
}

const why = cannotRunContainers();
if (why) {
  t.plan(0, why);
} else if (!runc) {
  t.plan(0, 'runc is not installed (apt-get install runc): nothing to compare with');
} else {
  const rootfs = makeBusyboxRootfs(tmpdir('runts-parity-rootfs-'));
  const roots = [tmpdir('runts-parity-root-'), tmpdir('runts-parity-runc-')];
  t.teardown(() => { for (const d of [rootfs, ...roots]) fs.rmSync(d, { recursive: true, force: true }); });

  t.test('runts spec and runc spec write the same config (bar ociVersion)', async (t) => {
    const a = bundleFor(rootfs, [RUNTS, 'spec']);
    const b = bundleFor(rootfs, [runc, 'spec']);
    const ca = JSON.parse(fs.readFileSync(path.join(a, 'config.json'), 'utf8'));
    const cb = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
    delete ca.ociVersion; delete cb.ociVersion;
    t.same(ca, cb);
  });

  t.test('the container sees the same thing under runc and runts', async (t) => {
    const bundle = bundleFor(rootfs, [RUNTS, 'spec']);
    const ours = runWith(RUNTS, bundle, roots[0]!);
    const theirs = runWith(runc, bundle, roots[1]!);
    t.equal(theirs.code, 0, `runc ran: ${theirs.err}`);
    t.equal(ours.code, theirs.code, `same exit status: ${ours.err}`);
    const a = sections(ours.out);
    const b = sections(theirs.out);
    t.same([...a.keys()], [...b.keys()], 'every probe section ran');
    for (const [name, lines] of b) {
      let mine = a.get(name) ?? [];
      let want = lines;
      if (name === 'mounts') {
        // Deliberate hardening: masked paths and the /sys/fs/cgroup tmpfs are
        // read-only (nosuid, noexec) in runts; runc leaves some of them rw.
        // For those, require ours to be read-only; everything else must match.
        const hardened = (l: string) => /^\/(proc\/(acpi|keys|timer_list|kcore|latency_stats|timer_stats|sched_debug|scsi)|sys\/firmware|sys\/fs\/cgroup) /.test(l);
        for (const l of mine.filter(hardened)) t.match(l, / ro,/, `hardened mount is read-only: ${l}`);
        t.same(mine.filter(hardened).map((l) => l.split(' ')[0]), want.filter(hardened).map((l) => l.split(' ')[0]), 'the same hardened mount points');
        mine = mine.filter((l) => !hardened(l));
        want = want.filter((l) => !hardened(l));
      }
      if (name === 'dev') {
        // pty and console numbering and sizes/dates differ by run; compare names, modes, owners
        mine = mine.map((l) => l.replace(/\S+ \S+ (\S+)$/, '$1'));
        want = want.map((l) => l.replace(/\S+ \S+ (\S+)$/, '$1'));
      }
      t.same(mine, want, `${name} matches runc`);
    }
  });
}
