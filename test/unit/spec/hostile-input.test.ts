/**
 * Hostile config.json input (issue 11): invalid UTF-8 (refused before
 * parsing, with the byte offset), integers outside their C type (compared by
 * their literal digits, so 2^63 is not mistaken for int64's maximum), sizes
 * beyond the bounds (checked before the schema), and ids the process cannot
 * get ((uid_t)-1, unmapped ids).
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scanBounds, MAX_ARRAY_ITEMS, MAX_DEPTH, MAX_STRING } from '../../../src/spec/bounds.js';
import { CTYPES, MAP_OBJECTS } from '../../../src/spec/ctypes.js';
import { userIdProblems } from '../../../src/spec/ids.js';
import { MAX_CONFIG_BYTES, utf8ErrorOffset } from '../../../src/spec/raw-text.js';
import { checkSpec, loadConfig } from '../../../src/spec/validate.js';
import { planV1 } from '../../../src/cgroups/plan.js';
import { planProcess } from '../../../src/plan/process.js';
import { baseConfig, ensureValidators, makeBundle, REPO } from './setup.js';

t.before(ensureValidators);

/** loadConfig's error for config text; '' when it loads. */
function loadError(text: string | Buffer): string {
  const dir = makeBundle();
  fs.writeFileSync(path.join(dir, 'config.json'), text);
  try {
    loadConfig(dir);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

/** Config text with `"@@"` (a JSON string) replaced by raw text. */
function withRaw(mutate: (c: any) => void, raw: string): string {
  const c = baseConfig();
  delete c.hostname;
  mutate(c);
  const text = JSON.stringify(c);
  t.ok(text.includes('"@@"'), 'placeholder present');
  return text.replace('"@@"', raw);
}

t.test('utf8ErrorOffset', async (t) => {
  const cases: [number[], number][] = [
    [[0x61, 0x62], -1],
    [[0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], -1], // é € 😀
    [[0x61, 0xc0, 0xae], 1], // overlong '.'
    [[0x61, 0x62, 0xe0, 0x80, 0xae], 2], // 3-byte overlong '.'
    [[0xf0, 0x80, 0x80, 0xae], 0], // 4-byte overlong
    [[0x61, 0xff], 1],
    [[0x80], 0], // lone continuation
    [[0xed, 0xa0, 0x80], 0], // UTF-16 surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
    [[0x61, 0xc3], 1], // truncated
    [[0xe2, 0x82, 0x41], 0], // bad continuation
  ];
  for (const [bytes, want] of cases) t.equal(utf8ErrorOffset(Buffer.from(bytes)), want, Buffer.from(bytes).toString('hex'));
});

t.test('invalid UTF-8 is refused with its byte offset, in every field', async (t) => {
  const overlongDotDot = Buffer.from([0xc0, 0xae, 0xc0, 0xae]);
  const fields: [string, (c: any) => void][] = [
    ['hostname', (c) => { c.hostname = '@@'; c.linux = { namespaces: [{ type: 'uts' }] }; }],
    ['env entry', (c) => { c.process.env.push('@@'); }],
    ['mount destination', (c) => { c.mounts = [{ destination: '@@', type: 'tmpfs', source: 'tmpfs' }]; }],
    ['process.cwd', (c) => { c.process.cwd = '@@'; }],
    ['cgroupsPath', (c) => { c.linux = { cgroupsPath: '@@' }; }],
    ['annotation key', (c) => { c.annotations = { '@@': 'v' }; }],
  ];
  for (const [name, mutate] of fields) {
    const text = withRaw(mutate, '"/x/@@"');
    const [before, after] = text.split('@@');
    const buf = Buffer.concat([Buffer.from(before!), overlongDotDot, Buffer.from(after!)]);
    const offset = Buffer.byteLength(before!);
    t.match(loadError(buf), `config.json: invalid UTF-8 at byte offset ${offset} (bytes 0xc0 0xae 0xc0 0xae)`, name);
    // the same config with a valid "..": not an encoding error
    t.notMatch(loadError(Buffer.concat([Buffer.from(before!), Buffer.from('..'), Buffer.from(after!)])), 'UTF-8', `${name}: valid text`);
  }
  t.match(loadError(Buffer.concat([Buffer.from('{"ociVersion":"1.3.0","x":"é'), Buffer.from([0xff]), Buffer.from('"}')])),
    'invalid UTF-8 at byte offset 29 (bytes 0xff 0x22 0x7d)', 'offsets count bytes, not characters');
});

t.test('integers are checked against their C type by their digits', async (t) => {
  const warned = (text: string): string[] => {
    const dir = makeBundle();
    fs.writeFileSync(path.join(dir, 'config.json'), text);
    const w: string[] = [];
    loadConfig(dir, { onWarning: (x) => w.push(x.message) });
    return w;
  };
  const mem = (v: string) => withRaw((c) => { c.linux = { resources: { memory: { limit: '@@' } } }; }, v);
  t.match(loadError(mem('9223372036854775808')),
    'config.json /linux/resources/memory/limit: must fit in an int64 (-9223372036854775808 to 9223372036854775807), got 9223372036854775808');
  t.match(loadError(mem('-9223372036854775809')), '/linux/resources/memory/limit: must fit in an int64');
  t.match(loadError(mem('1e19')), '/linux/resources/memory/limit: must be <=', 'an exponent form: the schema sees it too');
  t.match(warned(mem('9223372036854775807')).join(), 'runts uses 9223372036854775808', 'int64 max becomes 2^63: a warning');
  t.same(warned(withRaw((c) => { c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: '@@', hard: 1 }]; }, '18446744073709551615').replace('"hard":1', '"hard":18446744073709551615')), [],
    'RLIM_INFINITY: no warning (it stays RLIM_INFINITY)');
  t.same(warned(mem('9007199254740993')),
    ['config.json /linux/resources/memory/limit: 9007199254740993 is beyond 2^53 and not a multiple of a power of two: runts uses 9007199254740992'],
    '2^53+1 becomes 2^53: accepted (as runc), with a warning');
  t.same(warned(mem('9007199254740994')), [], '2^53+2 is exact: no warning');
  t.equal(loadError(mem('9007199254740994')), '', '2^53+2 is exact: accepted');
  t.equal(loadError(mem('1152921504606846976')), '', '2^60 is accepted');

  const rl = (soft: string, hard: string) =>
    withRaw((c) => { c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: '@@', hard: 1 }]; }, soft).replace('"hard":1', `"hard":${hard}`);
  t.match(loadError(rl('1', '18446744073709551616')), 'config.json /process/rlimits/0/hard: must fit in a uint64 (0 to 18446744073709551615), got 18446744073709551616');
  t.equal(loadError(rl('18446744073709551615', '18446744073709551615')), '', 'RLIM_INFINITY is accepted');
  t.match(loadError(rl('-1', '1')), '/process/rlimits/0/soft: must be >= 0, got -1', 'negative: the schema says it first');

  const cases: [(c: any) => void, string, string][] = [
    [(c) => { c.linux = { resources: { pids: { limit: '@@' } } }; }, '-9223372036854775809', '/linux/resources/pids/limit: must fit in an int64'],
    [(c) => { c.linux = { resources: { cpu: { shares: '@@' } } }; }, '18446744073709551616', '/linux/resources/cpu/shares: must fit in a uint64'],
    [(c) => { c.linux = { resources: { cpu: { quota: '@@' } } }; }, '9223372036854775808', '/linux/resources/cpu/quota: must fit in an int64'],
    [(c) => { c.linux = { resources: { hugepageLimits: [{ pageSize: '2MB', limit: '@@' }] } }; }, '18446744073709551616', '/linux/resources/hugepageLimits/0/limit: must fit in a uint64'],
    [(c) => { c.linux = { resources: { rdma: { mlx: { hcaHandles: '@@' } } } }; }, '4294967296', '/linux/resources/rdma/mlx/hcaHandles: '],
    [(c) => { c.linux = { devices: [{ path: '/dev/x', type: 'c', major: '@@', minor: 1 }] }; }, '9223372036854775808', '/linux/devices/0/major: must fit in an int64'],
    [(c) => { c.linux = { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: '@@', op: 'SCMP_CMP_EQ' }] }] } }; },
      '18446744073709551616', '/linux/seccomp/syscalls/0/args/0/value: must fit in a uint64'],
    [(c) => { c.linux = { namespaces: [{ type: 'time' }], timeOffsets: { boottime: { secs: '@@' } } }; }, '9223372036854775808', '/linux/timeOffsets/boottime/secs: must fit in an int64'],
    [(c) => { c.process.oomScoreAdj = '@@'; }, '2147483648', '/process/oomScoreAdj: must fit in an int32'],
    [(c) => { c.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: '@@' }; }, '18446744073709551616', '/process/scheduler/runtime: must fit in a uint64'],
  ];
  for (const [mutate, literal, want] of cases) t.match(loadError(withRaw(mutate, literal)), want, want);
});

t.test('values beyond 2^53 that survive reach the writers exactly', async (t) => {
  const c = baseConfig();
  const text = JSON.stringify(c).replace('"args":["sh"]',
    '"args":["sh"],"rlimits":[{"type":"RLIMIT_NOFILE","soft":9007199254740994,"hard":18446744073709551615},{"type":"RLIMIT_CORE","soft":1152921504606846976,"hard":1152921504606846976}]')
    .replace('"linux":{', '"linux":{"resources":{"memory":{"limit":1152921504606846976,"swap":-1}},');
  const r = checkSpec(JSON.parse(text), makeBundle(), {}, text);
  t.same(r.errors.map((e) => e.message), []);
  t.equal(r.exact?.get('/process/rlimits/0/soft'), 9007199254740994n);
  t.equal(r.exact?.get('/process/rlimits/0/hard'), 18446744073709551615n);
  const rl = planProcess(r.spec!, { lastCap: 40, rootless: { euid: 0, egid: 0, initialUserns: true } }).rlimits;
  t.same(rl.map((x) => [x.soft, x.hard]), [['9007199254740994', '18446744073709551615'], ['1152921504606846976', '1152921504606846976']],
    'rlimits: the exact decimal, RLIM_INFINITY for uint64 max');
  const mem = planV1(r.spec!.linux!.resources!, {}).filter((e) => e.file === 'memory.limit_in_bytes');
  t.same(mem.map((e) => e.value), ['1152921504606846976'], 'cgroup memory.limit_in_bytes: the exact decimal');
});

t.test('a parsed object (no text): values beyond 2^53 are not judged by their re-serialised digits', async (t) => {
  const c = baseConfig();
  c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 18446744073709551615, hard: 18446744073709551615 }];
  c.linux.resources = { memory: { limit: 9223372036854775807 } };
  t.same(checkSpec(c, makeBundle()).errors.map((e) => e.message), [], 'RLIM_INFINITY and int64 max (as doubles) pass');
  c.process.user.additionalGids = [-1];
  t.same(checkSpec(c, makeBundle()).errors.map((e) => e.pointer), ['/process/user/additionalGids/0'], 'small values are still checked');
});

t.test('bounds: sizes are refused before the schema runs', async (t) => {
  const big = 'a'.repeat(10 * 1024 * 1024);
  const dest = loadError(JSON.stringify({ ...baseConfig(), mounts: [{ destination: `/${big}`, type: 'tmpfs', source: 'tmpfs' }] }));
  t.match(dest, 'config.json /mounts/0/destination: path too long (10485761 bytes; the kernel\'s PATH_MAX is 4096 bytes including the terminating NUL)');
  t.match(loadError(JSON.stringify({ ...baseConfig(), mounts: [{ destination: `/${'é'.repeat(2048)}`, type: 'tmpfs', source: 'tmpfs' }] })),
    'path too long (4097 bytes', 'PATH_MAX counts bytes');
  t.equal(loadError(JSON.stringify({ ...baseConfig(), mounts: [{ destination: `/${'a'.repeat(4094)}`, type: 'tmpfs', source: 'tmpfs' }] })), '', '4095 bytes is accepted');
  t.match(loadError(JSON.stringify({ ...baseConfig(), annotations: { a: 'x'.repeat(MAX_STRING + 1) } })), `config.json /annotations/a: string too long (${MAX_STRING + 1} characters`);
  const env = Array.from({ length: MAX_ARRAY_ITEMS + 1 }, (_, i) => `V${i}=1`);
  const c = baseConfig();
  c.process.env = env;
  t.match(loadError(JSON.stringify(c)), `config.json /process/env: too many items (${MAX_ARRAY_ITEMS + 1}`);
  let deep: unknown = 1;
  for (let i = 0; i < MAX_DEPTH + 5; i++) deep = [deep];
  t.match(loadError(JSON.stringify({ ...baseConfig(), deep })), `nested too deeply (runts accepts at most ${MAX_DEPTH} levels)`);
  // a file above the limit is refused from its size, before it is read (sparse here)
  const dir = makeBundle();
  const fd = fs.openSync(path.join(dir, 'config.json'), 'w');
  fs.ftruncateSync(fd, MAX_CONFIG_BYTES + 1);
  fs.closeSync(fd);
  t.throws(() => loadConfig(dir), { message: new RegExp(`config.json: too large \\(${MAX_CONFIG_BYTES + 1} bytes; runts accepts at most ${MAX_CONFIG_BYTES} bytes\\)`) });
});

t.test('scanBounds: escaped strings and keys, pointers of map members', async (t) => {
  const text = JSON.stringify({ annotations: { 'a/b~c': '\\"x', q: '"' }, linux: { resources: { rdma: { 'm/x': { hcaObjects: 4294967296 } } } } });
  const r = scanBounds(text);
  t.same(r.errors, []);
  t.same(r.typeErrors.map((e) => e.pointer), ['/linux/resources/rdma/m~1x/hcaObjects']);
  const p = scanBounds('{"user":{"uid":4294967296},"rlimits":[{"soft":-1}]}', ['process']);
  t.same(p.typeErrors.map((e) => e.pointer), ['/process/user/uid', '/process/rlimits/0/soft']);
  t.match(p.typeErrors[1]!.message, 'must not be negative, got -1');
});

t.test('ids the process cannot get', async (t) => {
  const msgs = (user: any, linux?: any) => userIdProblems(user, linux).map((e) => e.message);
  t.same(msgs({ uid: 0, gid: 0, additionalGids: [1, 4294967294] }), []);
  t.same(msgs({ uid: 4294967295, gid: 4294967295, additionalGids: [4294967295] }), [
    'config.json /process/user/uid: uid 4294967295 is (uid_t)-1, which setresuid takes as "leave unchanged": the process would keep the runtime\'s uid 0',
    'config.json /process/user/gid: gid 4294967295 is (gid_t)-1, which setresgid takes as "leave unchanged": the process would keep the runtime\'s gid 0',
    'config.json /process/user/additionalGids/0: gid 4294967295 is (gid_t)-1, which setresgid takes as "leave unchanged": the process would keep the runtime\'s gid 0',
  ]);
  const userns = {
    namespaces: [{ type: 'user' }],
    uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 100, hostID: 2000, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: 1000, size: 10 }],
  };
  t.same(msgs({ uid: 9, gid: 9, additionalGids: [0] }, userns), []);
  t.same(msgs({ uid: 100, gid: 0 }, userns), []);
  t.same(msgs({ uid: 10, gid: 10, additionalGids: [3, 100] }, userns), [
    'config.json /process/user/uid: uid 10 is not mapped in the container\'s user namespace (/linux/uidMappings)',
    'config.json /process/user/gid: gid 10 is not mapped in the container\'s user namespace (/linux/gidMappings)',
    'config.json /process/user/additionalGids/1: gid 100 is not mapped in the container\'s user namespace (/linux/gidMappings)',
  ]);
  t.same(msgs({ uid: 5000, gid: 0 }, { namespaces: [{ type: 'user', path: '/proc/1/ns/user' }] }), [], 'a joined user namespace: the kernel decides');
  const c = baseConfig();
  c.process.user.uid = 4294967295;
  t.same(checkSpec(c, makeBundle()).errors.map((e) => e.pointer), ['/process/user/uid'], 'checkSpec reports it');
});

/**
 * The C type table against the schemas: every integer field of the Linux
 * config schema whose type is one of defs.json's int8..uint64 is in CTYPES
 * with that type (a schema update cannot silently skip the exact check).
 */
t.test('CTYPES covers every C-typed integer of the schema', async (t) => {
  const dir = path.join(REPO, 'schemas');
  const files = new Map<string, any>();
  const load = (f: string) => files.get(f) ?? files.set(f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))).get(f);
  const found = new Map<string, string>();
  const INT = /^u?int(8|16|32|64)$/;
  const walk = (node: any, file: string, at: string, seen: Set<string>): void => {
    if (node === null || typeof node !== 'object') return;
    if (node.$ref) {
      const [f, frag = ''] = (node.$ref as string).split('#');
      const target = f || file;
      const name = frag.split('/').filter(Boolean).pop() ?? '';
      if (INT.test(name)) return void found.set(at, name);
      const key = `${target}#${frag}`;
      if (seen.has(key)) return;
      let n = load(target);
      for (const seg of frag.split('/').filter(Boolean)) n = n[seg];
      return walk(n, target, at, new Set([...seen, key]));
    }
    for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, file, `${at}/${k}`, seen);
    for (const v of Object.values(node.patternProperties ?? {})) walk(v, file, `${at}/*`, seen);
    if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties, file, `${at}/*`, seen);
    if (node.items && !Array.isArray(node.items)) walk(node.items, file, `${at}/#`, seen);
    for (const k of ['allOf', 'anyOf', 'oneOf']) for (const v of node[k] ?? []) walk(v, file, at, seen);
  };
  walk(load('config-schema.json'), 'config-schema.json', '', new Set());
  // map objects: the table names their members `*` (e.g. timeOffsets' clocks)
  const norm = (p: string) => {
    const segs = p.split('/');
    for (let i = 1; i < segs.length; i++) if (MAP_OBJECTS.has(segs.slice(0, i).join('/'))) segs[i] = '*';
    return segs.join('/');
  };
  const linux = [...found].filter(([p]) => !/^\/(windows|solaris|vm|freebsd|zos)\b/.test(p));
  t.ok(linux.length > 60, `found ${linux.length} integer fields`);
  for (const [p, type] of linux) t.equal(CTYPES.get(norm(p)), type, p);
});
