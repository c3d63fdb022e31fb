/**
 * Differential (runc 1.1.5): seccomp profiles that list architectures of
 * other ABI families next to the x86 ones (multi-arch profiles as engines
 * ship them) run, and the rules for x86_64/x86/x32 apply the same way under
 * both runtimes; Docker's default profile, also with extra architectures,
 * gives the container the same view.
 */
import * as fs from 'node:fs';
import t from 'tap';
import { sharedRootfs } from '../helpers/rootfs.js';
import { type Cfg, Differential, differential, makeBundle, uniqueId } from '../helpers/differential.js';

const DOCKER = JSON.parse(fs.readFileSync('/work/shared/seccomp/docker-default.oci-amd64.json', 'utf8'));
const MULTI = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];

differential({ x64: true }, (d) => {
  const rts = [d.runts, d.runc];
  const rootfs = sharedRootfs();
  const writableTmp = (c: Cfg) => { c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' }); };

  const both = (script: string, mutate: (c: Cfg) => void) => {
    const b = makeBundle({ rootfs, args: ['sh', '-c', script], mutate: (c) => { writableTmp(c); mutate(c); } });
    return rts.map((rt) => ({ rt: rt.name, ...rt.run(['run', '--bundle', b, uniqueId('arch')]) }));
  };

  t.test('an ERRNO rule in a profile listing x86 and ARM architectures', async (t) => {
    const [ours, theirs] = both('mkdir /tmp/x 2>&1; echo rc=$?; touch /tmp/y && echo touched; grep ^Seccomp: /proc/self/status', (c) => {
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: MULTI,
        syscalls: [
          { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 },
          // names of ARM/RISC-V only: no number on x86, skipped without a word
          { names: ['arm_fadvise64_64', 'cacheflush', 'riscv_hwprobe'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
        ],
      };
    });
    t.equal(theirs!.code, 0, `runc ran it: ${theirs!.stderr}`);
    t.equal(ours!.code, theirs!.code, `runts ran it: ${ours!.stderr}`);
    t.match(theirs!.stdout, /not supported\nrc=1/i, 'runc: mkdir got EOPNOTSUPP');
    t.equal(ours!.stdout, theirs!.stdout, 'the container saw the same');
    t.equal(ours!.stderr, theirs!.stderr, 'no warning about the other architectures or their syscalls (runc: none either)');
  });

  // What a container under Docker's profile (default caps of this bundle: none) can and cannot do.
  const PROBE = [
    'ls / >/dev/null && echo ls=ok',
    'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status',
    'unshare -m true 2>&1; echo unshare=$?',
    'mkdir /tmp/d && echo mkdir=ok',
    'chroot / true 2>&1; echo chroot=$?',
    'mount -t tmpfs t /tmp/d 2>&1; echo mount=$?',
    'nice -n 5 true 2>&1; echo nice=$?',
  ].join('; ');
  for (const [what, archs] of [['as Docker resolves it for amd64', DOCKER.architectures], ['with ARM architectures added', [...DOCKER.architectures, 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']]] as const) {
    t.test(`Docker's default profile ${what}`, async (t) => {
      const [ours, theirs] = both(PROBE, (c) => { c.linux.seccomp = { ...DOCKER, architectures: archs }; });
      t.equal(theirs!.code, 0, `runc ran it: ${theirs!.stderr}`);
      t.equal(ours!.code, theirs!.code, `runts ran it: ${ours!.stderr}`);
      t.match(theirs!.stdout, /^Seccomp:\s+2$/m);
      t.equal(ours!.stdout, theirs!.stdout, 'the container saw the same');
    });
  }
});
