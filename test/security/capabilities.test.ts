/**
 * Capabilities on the real kernel: the five sets in /proc/self/status of the
 * container process match the config (hex masks) for root and non-root
 * users, inheritable stays empty unless asked, ambient capabilities work for
 * a non-root user, no_new_privs and the seccomp mode are as configured, and
 * bad values give specific errors without leaving anything behind.
 * Capabilities outside the runtime's own bounding set (CAP_SYS_RESOURCE on
 * this machine) are left out with one warning and the container starts
 * (config.md "Linux process": SHOULD log a warning and not fail).
 * The pure parts (resolveCapabilities, grantableCapabilities) are in
 * test/unit/security/capabilities.test.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { CAPABILITIES, capabilityNumber } from '../../src/linux/capability-names.js';
import { ownCapabilitySet } from '../../src/linux/capabilities.js';
import { makeBundle, withRunts } from '../helpers/runts.js';
import { assertNothingLeft, runSh, type Cfg } from './helpers.js';

/** The /proc/PID/status hex mask of a list of capability names. */
function mask(names: string[]): string {
  let m = 0n;
  for (const n of names) m |= 1n << BigInt(capabilityNumber(n)!);
  return m.toString(16).padStart(16, '0');
}

interface Caps { CapInh: string; CapPrm: string; CapEff: string; CapBnd: string; CapAmb: string; NoNewPrivs: string; Seccomp: string }

function parseStatus(text: string): Caps {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(Cap\w+|NoNewPrivs|Seccomp):\s+(\S+)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out as unknown as Caps;
}

const ROOT = path.resolve(__dirname, '../..');
const LAST_CAP = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));

withRunts((rt) => {
  // grep is exec'd by the shell as its last command: the status is the container process's own.
  const capsOf = (mutate: (c: Cfg) => void) => {
    const r = runSh(rt, 'exec grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status', mutate);
    return { r, caps: parseStatus(r.stdout) };
  };

  t.test('root: the configured sets, inheritable empty unless asked', async (t) => {
    const set = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_ADMIN'];
    const { r, caps } = capsOf((c) => {
      c.process.capabilities = { bounding: set, effective: set.slice(0, 3), permitted: set };
    });
    t.equal(r.code, 0, r.stderr);
    t.equal(caps.CapBnd, mask(set), 'bounding');
    // capabilities(7): execve as uid 0 treats the file sets as full, so
    // P' = inheritable | bounding and E' = P' (runc containers show the same).
    t.equal(caps.CapPrm, mask(set), 'permitted = bounding after execve as root');
    t.equal(caps.CapEff, mask(set), 'effective = permitted after execve as root');
    t.equal(caps.CapInh, mask([]), 'inheritable empty (CVE-2022-29162)');
    t.equal(caps.CapAmb, mask([]), 'ambient empty');
    t.equal(caps.NoNewPrivs, '1');
    t.equal(caps.Seccomp, '0', 'no filter configured');
  });

  t.test('root: no capabilities object means no capabilities at all (runc)', async (t) => {
    const { r, caps } = capsOf((c) => { delete c.process.capabilities; c.process.noNewPrivileges = false; });
    t.equal(r.code, 0, r.stderr);
    for (const k of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'] as const) t.equal(caps[k], mask([]), k);
    t.equal(caps.NoNewPrivs, '0');
  });

  t.test('root: inheritable when asked', async (t) => {
    const { r, caps } = capsOf((c) => {
      c.process.capabilities = { bounding: ['CAP_CHOWN', 'CAP_NET_RAW'], permitted: ['CAP_CHOWN', 'CAP_NET_RAW'], effective: ['CAP_CHOWN'], inheritable: ['CAP_NET_RAW'] };
    });
    t.equal(r.code, 0, r.stderr);
    t.equal(caps.CapInh, mask(['CAP_NET_RAW']));
  });

  t.test('non-root: permitted/effective are lost at exec, ambient ones are kept', async (t) => {
    const plain = capsOf((c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = { bounding: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'], permitted: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'], effective: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'] };
    });
    t.equal(plain.r.code, 0, plain.r.stderr);
    t.equal(plain.caps.CapBnd, mask(['CAP_NET_BIND_SERVICE', 'CAP_KILL']), 'bounding as configured');
    t.equal(plain.caps.CapPrm, mask([]), 'no file caps, no ambient: permitted cleared by execve');
    t.equal(plain.caps.CapEff, mask([]));

    const amb = ['CAP_NET_BIND_SERVICE'];
    const withAmbient = capsOf((c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = { bounding: [...amb, 'CAP_KILL'], permitted: [...amb, 'CAP_KILL'], effective: [...amb, 'CAP_KILL'], inheritable: amb, ambient: amb };
    });
    t.equal(withAmbient.r.code, 0, withAmbient.r.stderr);
    t.equal(withAmbient.caps.CapAmb, mask(amb), 'ambient');
    t.equal(withAmbient.caps.CapInh, mask(amb), 'inheritable');
    t.equal(withAmbient.caps.CapPrm, mask(amb), 'permitted = ambient after execve');
    t.equal(withAmbient.caps.CapEff, mask(amb), 'effective = ambient after execve');
    t.equal(withAmbient.caps.CapBnd, mask([...amb, 'CAP_KILL']));

    // The ambient capability really works: bind a privileged port as uid 1000.
    const bind = runSh(rt, 'nc -l -p 80 -w 1 </dev/null 2>&1 & sleep 0.3; netstat -ltn 2>/dev/null | grep -c ":80 "; wait; true', (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = { bounding: amb, permitted: amb, effective: amb, inheritable: amb, ambient: amb };
    });
    t.equal(bind.code, 0, bind.stderr);
    t.match(bind.stdout, /^1$/m, 'uid 1000 listens on port 80');
    const denied = runSh(rt, 'nc -l -p 80 -w 1 </dev/null 2>&1; true', (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = { bounding: amb, permitted: amb, effective: amb };
    });
    t.match(denied.stdout, /Permission denied/, 'without ambient it is refused');
  });

  // Capabilities of this kernel that runts's own bounding set lacks (CAP_SYS_RESOURCE on this VM).
  const ownBnd = ownCapabilitySet('CapBnd') ?? [];
  const missing = Array.from({ length: LAST_CAP + 1 }, (_, c) => c).filter((c) => !ownBnd.includes(c));
  const missingNames = missing.map((c) => CAPABILITIES[c]!);
  t.test('a capability outside runts\'s bounding set is a warning, and the container starts without it', {
    skip: missing.length === 0 ? 'runts\'s bounding set has every capability of this kernel: nothing to test' : false,
  }, async (t) => {
    const granted = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    const asked = [...granted.slice(0, 2), ...missingNames, granted[2]!];
    const { r, caps } = capsOf((c) => {
      c.process.capabilities = { bounding: asked, effective: asked, permitted: asked };
    });
    t.equal(r.code, 0, `the container ran: ${r.stderr}`);
    const want = missingNames.length === 1
      ? `runts: warning: capability ${missingNames[0]} is not in runts's bounding set: not granted`
      : `runts: warning: capabilities ${missingNames.join(', ')} are not in runts's bounding set: not granted`;
    t.equal(r.stderr.split('\n').filter((l) => l.includes('bounding set')).join('\n'), want, 'exactly one warning, naming the capability');
    t.equal(caps.CapBnd, mask(granted), `CapBnd: the requested ones but ${missingNames.join(', ')}`);
    t.equal(caps.CapPrm, mask(granted), 'CapPrm');
    t.equal(caps.CapEff, mask(granted), 'CapEff');
    t.equal(caps.CapInh, mask([]), 'CapInh');

    // The same through `exec --cap`: the exec'd process does not get it either.
    const id = `${r.id}-x`;
    const b = makeBundle({ args: ['sleep', '30'], mutate: (c) => { c.process.capabilities = { bounding: granted, effective: granted, permitted: granted }; } });
    const created = rt.run(['run', '--detach', '--bundle', b, id]);
    t.equal(created.code, 0, created.stderr);
    if (created.code !== 0) return;
    const x = rt.run(['exec', '--cap', missingNames[0]!, id, 'grep', '-E', '^Cap(Bnd|Eff):', '/proc/self/status']);
    rt.run(['delete', '--force', id]);
    t.equal(x.code, 0, `exec ran: ${x.stderr}`);
    t.match(x.stderr, new RegExp(`warning: capabilit(y|ies) .*${missingNames[0]}.* not in runts's bounding set: not granted`), 'exec warns too');
    const ex = parseStatus(x.stdout);
    t.equal(ex.CapBnd, mask(granted), 'exec: CapBnd without it');
    t.equal(ex.CapEff, mask(granted), 'exec: CapEff without it');
  });

  t.test('if capset still refuses, the error names the capabilities', {
    skip: missing.length === 0 ? 'runts\'s bounding set has every capability of this kernel: nothing to test' : false,
  }, async (t) => {
    // A throw-away child: a root process whose permitted set lacks the missing capabilities.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
    const r = spawnSync('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, '--import', 'tsx', path.join(ROOT, 'test/security/fixtures/capset-child.ts'),
      JSON.stringify([0, missing[0]])], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { ok?: boolean; error?: string };
    t.equal(out.error, `capset: EPERM (operation not permitted): ${missingNames[0]} not in the permitted set of the runtime's init stage`);
  });

  t.test('in a user namespace every capability can be granted: no warning', {
    skip: missing.length === 0 ? 'runts\'s bounding set has every capability of this kernel: nothing to test' : false,
  }, async (t) => {
    const asked = ['CAP_CHOWN', 'CAP_KILL', ...missingNames];
    const { r, caps } = capsOf((c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
      c.process.capabilities = { bounding: asked, effective: asked, permitted: asked };
    });
    t.equal(r.code, 0, `the container ran: ${r.stderr}`);
    t.notMatch(r.stderr, /bounding set/, 'no warning');
    t.equal(caps.CapBnd, mask(asked), `CapBnd includes ${missingNames.join(', ')} (in the container's user namespace)`);
    t.equal(caps.CapEff, mask(asked), 'CapEff');
  });

  t.test('bad capability values: specific errors, nothing left behind', async (t) => {
    const cases: [string, (c: Cfg) => void, RegExp][] = [
      ['unknown name', (c) => { c.process.capabilities = { bounding: ['CAP_CHOWN', 'CAP_BOGUS'] }; }, /\/process\/capabilities\/bounding\/1.*unknown capability "CAP_BOGUS"/],
      ['lower case', (c) => { c.process.capabilities = { effective: ['net_admin'] }; }, /\/process\/capabilities\/effective\/0.*did you mean "CAP_NET_ADMIN"/],
    ];
    for (const [what, mutate, want] of cases) {
      const r = runSh(rt, 'true', mutate);
      t.not(r.code, 0, what);
      t.match(r.stderr, want, what);
      assertNothingLeft(t, rt, r.id);
    }
  });
});
