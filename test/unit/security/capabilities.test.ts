/**
 * Capabilities without a container: the config's names resolved against the
 * kernel's cap_last_cap and a grantable set (unknown names and capabilities
 * outside the runtime's bounding set are left out with a warning), and what
 * the init can grant read from this process's CapBnd. No root needed; the
 * kernel tests are in test/security/capabilities.test.ts.
 */
import * as fs from 'node:fs';
import t from 'tap';
import { ownCapabilitySet, resolveCapabilities } from '../../../src/linux/capabilities.js';
import { gatherHostFacts, type HostFacts } from '../../../src/plan/host-facts.js';
import { planProcess } from '../../../src/plan/process.js';
import type { Namespace, Spec } from '../../../src/spec/types.js';

const LAST_CAP = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));

t.test('unknown-to-kernel capabilities are skipped with a warning', async (t) => {
  // Every name runts knows is known to this kernel (cap_last_cap LAST_CAP); pretend an older one.
  const warnings: string[] = [];
  const sets = resolveCapabilities({ bounding: ['CAP_CHOWN', 'CAP_CHECKPOINT_RESTORE'], effective: ['CAP_BPF'] }, 38, (m) => warnings.push(m));
  t.same(sets.bounding, [0]);
  t.same(sets.effective, []);
  t.equal(warnings.length, 2);
  t.match(warnings[0], /CAP_CHECKPOINT_RESTORE is not known to this kernel \(cap_last_cap=38\): ignored in the bounding set/);
  t.ok(LAST_CAP >= 0);
});

t.test('capabilities outside a given grantable set: dropped from every set, one warning', async (t) => {
  const warnings: string[] = [];
  const all = ['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME'];
  const grantable = [0, 5, 8, 21]; // CAP_CHOWN, CAP_KILL, CAP_SETPCAP, CAP_SYS_ADMIN
  const sets = resolveCapabilities({ bounding: all, effective: all, permitted: all, inheritable: ['CAP_SYS_TIME', 'CAP_KILL'], ambient: ['CAP_SYS_TIME', 'CAP_KILL'] }, LAST_CAP, (m) => warnings.push(m), { grantable });
  for (const set of ['bounding', 'effective', 'permitted'] as const) t.same(sets[set], [0, 5], set);
  t.same(sets.inheritable, [5]);
  t.same(sets.ambient, [5]);
  t.same(warnings, ["capabilities CAP_SYS_RESOURCE, CAP_SYS_TIME are not in runts's bounding set: not granted"], 'one warning naming both');

  const one: string[] = [];
  resolveCapabilities({ bounding: ['CAP_SYS_RESOURCE', 'CAP_KILL'], effective: ['CAP_SYS_RESOURCE'] }, LAST_CAP, (m) => one.push(m), { grantable });
  t.same(one, ["capability CAP_SYS_RESOURCE is not in runts's bounding set: not granted"]);
  const none: string[] = [];
  resolveCapabilities({ bounding: all }, LAST_CAP, (m) => none.push(m));
  t.same(none, [], 'no grantable set given: no restriction');
});

t.test('what the init can grant: the CLI\'s bounding set, everything in a user namespace', async (t) => {
  const bnd = ownCapabilitySet('CapBnd');
  t.ok(bnd && bnd.length > 0, `CapBnd of this process: ${bnd?.length} capabilities`);
  t.same(gatherHostFacts().boundingSet, bnd, 'the host facts carry this process\'s CapBnd');
  // planning itself reads nothing of the host: a made-up bounding set without CAP_SYS_RESOURCE (24)
  const facts: HostFacts = { lastCap: 40, boundingSet: [0, 5, 21], rootless: { euid: 0, egid: 0, initialUserns: true } };
  const caps = { bounding: ['CAP_CHOWN', 'CAP_SYS_RESOURCE'], permitted: ['CAP_CHOWN', 'CAP_SYS_RESOURCE'] };
  const plan = (namespaces: Namespace[] | undefined) => {
    const warnings: string[] = [];
    const spec: Spec = { ociVersion: '1.3.0', process: { cwd: '/', user: { uid: 0, gid: 0 }, args: ['sh'], capabilities: caps }, linux: { namespaces } };
    return { caps: planProcess(spec, facts, { warn: (m) => warnings.push(m) }).capabilities, warnings };
  };
  const noUserns = plan([{ type: 'pid' }, { type: 'mount' }]);
  t.same(noUserns.caps.bounding, [0], 'no user namespace: the CLI\'s bounding set (the init inherits it)');
  t.same(noUserns.warnings, ["capability CAP_SYS_RESOURCE is not in runts's bounding set: not granted"]);
  t.same(plan(undefined).caps.permitted, [0]);
  t.same(plan([{ type: 'user' }, { type: 'mount' }]).caps.bounding, [0, 24], 'new user namespace: a full bounding set');
  t.same(plan([{ type: 'user', path: '/proc/1/ns/user' }]).caps.bounding, [0, 24], 'joined user namespace: the same');
});
