import t from 'tap';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CAPABILITIES } from '../../../src/linux/capability-names.js';
import { defaultSpec } from '../../../src/spec/default-spec.js';
import { validateSpec } from '../../../src/spec/validate.js';
import { ensureValidators, makeBundle, tmpdir } from './setup.js';

t.before(ensureValidators);

function findRunc(): string | undefined {
  if (fs.existsSync('/usr/sbin/runc')) return '/usr/sbin/runc';
  try {
    return execFileSync('which', ['runc'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const RUNC = findRunc();
const noRunc = RUNC ? false : 'runc is not installed (neither /usr/sbin/runc nor `which runc`): cannot compare with `runc spec`';

/** The text `runc spec [args]` writes, with its ociVersion replaced by runts's. */
function runcSpec(args: string[]): string {
  const dir = tmpdir('runts-runc-spec-');
  execFileSync(RUNC!, ['spec', ...args], { cwd: dir });
  const text = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
  return text.replace(/"ociVersion": "[^"]*"/, '"ociVersion": "1.3.0"');
}

for (const rootless of [false, true]) {
  const name = rootless ? 'rootless' : 'default';

  t.test(`${name} spec passes full validation`, async (t) => {
    const spec = defaultSpec({ rootless });
    t.equal(spec.ociVersion, '1.3.0');
    t.doesNotThrow(() => validateSpec(structuredClone(spec), makeBundle()));
  });

  t.test(`${name} spec equals \`runc spec${rootless ? ' --rootless' : ''}\``, { skip: noRunc }, async (t) => {
    const expected = runcSpec(rootless ? ['--rootless'] : []);
    const ours = defaultSpec({ rootless });
    t.strictSame(ours, JSON.parse(expected), 'deep-equal');
    t.equal(JSON.stringify(ours, null, '\t'), expected, 'byte-identical with tab indentation, same key order');
  });
}

t.test('default spec details', async (t) => {
  const spec = defaultSpec();
  t.same(spec.process?.capabilities?.bounding, DEFAULT_CAPABILITIES);
  t.equal(spec.process?.capabilities?.inheritable, undefined, 'no inheritable capabilities (CVE-2022-29162)');
  t.equal(spec.process?.noNewPrivileges, true);
  t.same(spec.linux?.namespaces?.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount']);
  t.not(defaultSpec().process, defaultSpec().process, 'every call returns a fresh object');
  spec.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
  t.same(defaultSpec().process?.capabilities?.bounding, DEFAULT_CAPABILITIES, 'callers cannot change the defaults');
});

t.test('rootless adjustments', async (t) => {
  const spec = defaultSpec({ rootless: true });
  const uid = process.getuid!();
  const gid = process.getgid!();
  t.same(spec.linux?.uidMappings, [{ containerID: 0, hostID: uid, size: 1 }]);
  t.same(spec.linux?.gidMappings, [{ containerID: 0, hostID: gid, size: 1 }]);
  t.same(spec.linux?.namespaces?.map((n) => n.type), ['pid', 'ipc', 'uts', 'mount', 'user']);
  t.equal(spec.linux?.resources, undefined);
  const sys = spec.mounts?.find((m) => m.destination === '/sys');
  t.same(sys, { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  const pts = spec.mounts?.find((m) => m.destination === '/dev/pts');
  t.notOk(pts?.options?.includes('gid=5'));
  t.equal(spec.process?.noNewPrivileges, true);
});
