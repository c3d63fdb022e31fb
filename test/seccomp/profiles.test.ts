/**
 * Real seccomp profiles (issue 10): a container starts under any profile that allows what its own program needs,
 * because runts does all of its own work before the filter goes in. Each profile runs a busybox shell, with and
 * without noNewPrivileges (without it the filter goes in while the init still holds CAP_SYS_ADMIN), compared with
 * runc on the same bundle; a minimal allow-list that only allows what `busybox true` itself calls runs /bin/true.
 *
 * Profiles: Docker's current default (../shared/seccomp, resolved to OCI form for amd64), podman 4.3's default,
 * containerd 1.6's default and the runtime-tools generator's default (test/seccomp/fixtures/profiles: linux.seccomp
 * as each engine or tool wrote it into a config.json on this machine).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from '../helpers/rootfs.js';
import { cleanEnv, makeBundle, Runts, uniqueId } from '../helpers/runts.js';
import { cannotRunContainers, RUNC } from '../helpers/cli.js';

const why = cannotRunContainers();
if (why) {
  t.plan(0, why);
  process.exit(0);
}

const fixtures = path.join(__dirname, 'fixtures/profiles');
const dockerProfile = path.resolve(__dirname, '../../../shared/seccomp/docker-default.oci-amd64.json');
const profiles: [string, string][] = [
  ['Docker default (moby/profiles)', dockerProfile],
  ['podman 4.3 default', path.join(fixtures, 'podman-4.3-default.json')],
  ['containerd 1.6 default (ctr run --seccomp)', path.join(fixtures, 'containerd-1.6-default.json')],
  ['runtime-tools generator default', path.join(fixtures, 'runtime-tools-generator.json')],
];
const runc = RUNC;
const rt = new Runts();
t.teardown(() => rt.cleanup());

const SCRIPT = 'echo started; ls / >/dev/null && echo listed; grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; id -u';
// the runtime's default capabilities (runc spec): no CAP_SYS_ADMIN, so without no_new_privs the filter needs it held
const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

function withProfile(profile: object, nnp: boolean, args: string[], user = { uid: 0, gid: 0 }): string {
  return makeBundle({
    args,
    mutate: (c) => {
      c.linux.seccomp = profile;
      c.process.noNewPrivileges = nnp;
      c.process.user = user;
      c.process.capabilities = { bounding: CAPS, effective: CAPS, permitted: CAPS };
    },
  });
}

function runWith(bin: string, bundle: string): { code: number | null; out: string; err: string } {
  const root = tmpdir('runts-prof-root-');
  try {
    const r = spawnSync(bin, ['--root', root, 'run', '--bundle', bundle, uniqueId('prof')], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: r.status, out: r.stdout, err: r.stderr };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

for (const [name, file] of profiles) {
  t.test(name, { skip: fs.existsSync(file) ? false : `${file} is missing` }, async (t) => {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const nnp of [true, false]) {
      for (const user of [{ uid: 0, gid: 0 }, { uid: 1000, gid: 1000 }]) {
        const what = `noNewPrivileges ${nnp}, uid ${user.uid}`;
        const bundle = withProfile(profile, nnp, ['sh', '-c', SCRIPT], user);
        const r = rt.run(['run', '--bundle', bundle, uniqueId('prof')]);
        t.equal(r.code, 0, `${what}: runs (${r.stderr.trim()})`);
        t.match(r.stdout, /started\nlisted\nNoNewPrivs:\s+[01]\nSeccomp:\s+2\n/, `${what}: the shell ran under a filter`);
        t.match(r.stdout, new RegExp(`NoNewPrivs:\\s+${nnp ? 1 : 0}\\nSeccomp:\\s+2\\n${user.uid}\\n`), `${what}: no_new_privs and uid as configured`);
        if (runc) {
          const c = runWith(runc, bundle);
          t.equal(r.stdout, c.out, `${what}: the container sees what it sees under runc`);
        }
      }
    }
  });
}

t.test('a minimal allow-list (only what busybox true calls) runs /bin/true', async (t) => {
  // strace of `busybox true` (static): everything else, the runtime's own calls included, gets EPERM
  const names = ['execve', 'arch_prctl', 'brk', 'exit_group', 'getrandom', 'getuid', 'mprotect', 'prctl', 'prlimit64', 'readlink', 'rseq', 'set_robust_list', 'set_tid_address'];
  const profile = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] };
  const ok = rt.run(['run', '--bundle', withProfile(profile, true, ['/bin/true']), uniqueId('min')]);
  t.equal(ok.code, 0, `runs: ${ok.stderr}`);
  // the filter is real: the same list without exit_group cannot even end the process normally
  const tooSmall = { ...profile, defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [{ names: names.filter((n) => n !== 'getuid'), action: 'SCMP_ACT_ALLOW' }] };
  const killed = rt.run(['run', '--bundle', withProfile(tooSmall, true, ['/bin/sh', '-c', 'id -u']), uniqueId('min')]);
  t.equal(killed.code, 128 + 31, 'a syscall outside the list kills the process (SIGSYS)');
});
