/**
 * startContainer hooks run as runc runs them (issue 12): after the container's credentials, capabilities,
 * no_new_privs and seccomp filter are in place, so a hook making a syscall the profile refuses fails; and only
 * the hook's own stdio reaches it (no runtime fd, no fd runts inherited from its caller). Differential: the same
 * bundle under runc 1.1.5.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from '../helpers/rootfs.js';
import { cleanEnv, makeBundle, RUNTS, uniqueId } from '../helpers/runts.js';
import { cannotRunContainers, RUNC } from '../helpers/cli.js';

const why = cannotRunContainers();
if (why) {
  t.plan(0, why);
  process.exit(0);
}
const runc = RUNC;

const HOOK = [
  'exec >/w/hook.out 2>&1',
  'id -u; id -g',
  'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status',
  // fds other than 0-2 (ls's own directory fd shows as 3 and cannot be read back)
  'for f in /proc/self/fd/*; do n=${f##*/}; [ "$n" -gt 3 ] && echo "extra fd $n"; done',
  'mkdir /w/denied 2>/dev/null && echo "mkdir allowed" || echo "mkdir refused"',
].join('; ');

function bundle(out: string): string {
  return makeBundle({
    args: ['/bin/true'],
    mutate: (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.noNewPrivileges = true;
      c.process.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
      c.mounts.push({ destination: '/w', type: 'bind', source: out, options: ['rbind', 'rw'] });
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
      c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', HOOK] }] };
    },
  });
}

function runWith(bin: string): string {
  const out = tmpdir('runts-sh-out-');
  fs.chmodSync(out, 0o777);
  const root = tmpdir('runts-sh-root-');
  try {
    // an fd runts's caller leaks (not close-on-exec) must not reach the hook
    const leak = fs.openSync('/dev/null', 'r');
    const r = spawnSync(bin, ['--root', root, 'run', '--bundle', bundle(out), uniqueId('sh')], {
      env: cleanEnv(), encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe', leak],
    });
    fs.closeSync(leak);
    if (r.status !== 0) throw new Error(`${bin} run failed (${r.status}): ${r.stderr}`);
    return fs.readFileSync(path.join(out, 'hook.out'), 'utf8');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

t.test('the startContainer hook runs with the container\'s credentials, under its filter, with no extra fd', async (t) => {
  const got = runWith(RUNTS);
  t.match(got, /^1000\n1000\n/, 'as the container user');
  t.match(got, /CapEff:\s+0000000000000000\n/, 'no effective capabilities (the container\'s, for uid 1000)');
  t.match(got, /CapBnd:\s+0000000000000020\n/, 'the container\'s bounding set (CAP_KILL)');
  t.match(got, /NoNewPrivs:\s+1\nSeccomp:\s+2\n/, 'no_new_privs and the filter');
  t.match(got, /mkdir refused/, 'the profile applies to the hook');
  t.notMatch(got, /extra fd/, 'only stdio reaches the hook');
  if (runc) t.equal(got, runWith(runc), 'the same as under runc');
});
