/**
 * Engine deviations from the schema that runc accepts (issue 11): accepted
 * with the meaning runc gives them, each reported as a warning; anything
 * else out of range stays an error.
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acceptEngineDeviations } from '../../../src/spec/engine-deviations.js';
import { checkSpec, loadConfig } from '../../../src/spec/validate.js';
import { baseConfig, ensureValidators, makeBundle } from './setup.js';

t.before(ensureValidators);

const dev = (type: string, fileMode: number) => ({ path: '/dev/x', type, major: 1, minor: 3, fileMode });

t.test('devices[].fileMode with the file-type bits: the permission bits are used, with a warning', async (t) => {
  const c = baseConfig();
  c.linux.devices = [dev('c', 8630), dev('b', 0o60600), dev('u', 0o20640), dev('p', 0o10644), dev('c', 0o666)];
  const r = checkSpec(c, makeBundle());
  t.same(r.errors.map((e) => e.message), []);
  t.same(r.spec?.linux?.devices?.map((d) => d.fileMode), [0o666, 0o600, 0o640, 0o644, 0o666]);
  t.same(r.warnings.map((w) => w.pointer), ['/linux/devices/0/fileMode', '/linux/devices/1/fileMode', '/linux/devices/2/fileMode', '/linux/devices/3/fileMode']);
  t.equal(r.warnings[0]!.message, 'config.json /linux/devices/0/fileMode: engine deviation from the schema: 8630 (0o20666) includes the file-type bits (schema maximum 511); using the permission bits 0o666, as runc does');
});

t.test('other fileMode values above 511 stay errors', async (t) => {
  for (const [type, mode, why] of [['c', 0o60666, 'block type bits on a char device'], ['b', 0o20666, 'char bits on a block device'],
    ['c', 0o24666, 'setuid'], ['c', 0o21666, 'sticky'], ['c', 0o1666, 'sticky without type bits'], ['c', 0o40755, 'directory bits']] as const) {
    const c = baseConfig();
    c.linux.devices = [dev(type, mode)];
    const r = checkSpec(c, makeBundle());
    t.same(r.errors.map((e) => e.pointer), ['/linux/devices/0/fileMode'], why);
    t.match(r.errors[0]?.message ?? '', 'must be <= 511', why);
  }
});

t.test('swappiness (uint64)-1: left unset, with a warning; other values above 100 stay errors', async (t) => {
  const dir = makeBundle();
  const c = baseConfig();
  c.linux.resources = { memory: { limit: 1048576, swappiness: '@@' } };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c).replace('"@@"', '18446744073709551615'));
  const warnings: string[] = [];
  const spec = loadConfig(dir, { onWarning: (w) => warnings.push(w.message) });
  t.equal(spec.linux?.resources?.memory?.swappiness, undefined);
  t.equal(spec.linux?.resources?.memory?.limit, 1048576);
  t.same(warnings, ['config.json /linux/resources/memory/swappiness: engine deviation from the schema: 18446744073709551615 is (uint64)-1, which Docker writes for "unset"; left unset, as runc does']);
  for (const v of ['18446744073709551614', '101']) {
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c).replace('"@@"', v));
    t.throws(() => loadConfig(dir), { message: /\/linux\/resources\/memory\/swappiness: must be between 0 and 100/ }, v);
  }
});

t.test('process without user: uid 0, gid 0, with a warning (runc runs it so); a user without uid stays an error', async (t) => {
  const c = baseConfig();
  delete c.process.user;
  const r = checkSpec(c, makeBundle());
  t.same(r.errors.map((e) => e.message), []);
  t.same(r.spec?.process?.user, { uid: 0, gid: 0 });
  t.same(r.warnings.map((w) => w.pointer), ['/process/user']);
  const d = baseConfig();
  d.process.user = { gid: 0 };
  t.same(checkSpec(d, makeBundle()).errors.map((e) => e.pointer), ['/process/user'], 'uid missing inside user');
});

t.test('acceptEngineDeviations leaves configs without deviations alone', async (t) => {
  const c = baseConfig();
  c.linux.devices = [dev('c', 0o600)];
  const before = JSON.stringify(c);
  t.same(acceptEngineDeviations(c), []);
  t.equal(JSON.stringify(c), before);
  t.same(acceptEngineDeviations(null), []);
  t.same(acceptEngineDeviations({ linux: { devices: 'x', resources: { memory: 3 } } }), []);
});
