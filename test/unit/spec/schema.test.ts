import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, RuntsError } from '../../../src/common/errors.js';
import {
  ConfigValidationError,
  checkSpec,
  explainSchemaError,
  featuresErrors,
  jsonErrorOffset,
  lineColumn,
  loadConfig,
  rankSchemaErrors,
  schemaErrors,
  stateErrors,
  validateFeatures,
  validateSpec,
  validateState,
  type SchemaErrorObject,
} from '../../../src/spec/validate.js';
import { HAVE_SCHEMA_TESTS, SCHEMA_TESTS, baseConfig, ensureValidators, makeBundle, readJson } from './setup.js';

t.before(ensureValidators);

const noExamples = HAVE_SCHEMA_TESTS ? false : `runtime-spec schema/test not found at ${SCHEMA_TESTS}`;

function examples(kind: string, verdict: 'good' | 'bad'): string[] {
  if (!HAVE_SCHEMA_TESTS) return [];
  const dir = path.join(SCHEMA_TESTS, kind, verdict);
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f));
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Examples that describe a container runts could run on Linux (with a rootfs added). */
const LINUX_RUNNABLE = new Set(['minimal-for-start.json', 'spec-example.json']);

t.test('every good config example passes the schema', { skip: noExamples }, async (t) => {
  const files = examples('config', 'good');
  t.ok(files.length >= 9, `found ${files.length} good examples`);
  for (const f of files) t.same(schemaErrors(readJson(f)).map((e) => e.message), [], path.basename(f));
});

t.test('Linux-runnable good examples pass full validation', { skip: noExamples }, async (t) => {
  for (const f of examples('config', 'good').filter((f) => LINUX_RUNNABLE.has(path.basename(f)))) {
    const config = readJson(f);
    // spec-example.json says 0.5.0-dev, which predates 1.0 and is not supported.
    if (path.basename(f) === 'spec-example.json') config.ociVersion = '1.3.0';
    const bundle = makeBundle(config);
    const spec = loadConfig(bundle);
    t.equal(spec.root?.path, 'rootfs', path.basename(f));
  }
});

t.test('good examples without a process pass when process is not required', { skip: noExamples }, async (t) => {
  for (const name of ['minimal.json', 'linux-rdma.json']) {
    const config = readJson(path.join(SCHEMA_TESTS, 'config/good', name));
    const r = checkSpec(config, '/nonexistent', { checkRootfs: false, requireProcess: false });
    t.same(r.errors.map((e) => e.message), [], name);
    t.ok(r.spec, name);
  }
});

t.test('every bad config example is rejected', { skip: noExamples }, async (t) => {
  const files = examples('config', 'bad');
  t.ok(files.length >= 5, `found ${files.length} bad examples`);
  for (const f of files) {
    const bundle = makeBundle(fs.readFileSync(f, 'utf8'));
    const err = thrown(() => loadConfig(bundle, { checkRootfs: false, requireProcess: false }));
    t.type(err, RuntsError, path.basename(f));
  }
});

t.test('bad examples produce friendly messages', { skip: noExamples }, async (t) => {
  const msg = (name: string) => schemaErrors(readJson(path.join(SCHEMA_TESTS, 'config/bad', name))).map((e) => e.message);
  t.same(msg('linux-hugepage.json'), [
    'config.json /linux/resources/hugepageLimits/0/pageSize: must match /^[1-9][0-9]*[KMG]B$/, got "64kB"',
  ]);
  t.same(msg('linux-netdevice.json'), ['config.json /linux/netDevices/eth0/name: must be string, got integer 23']);
  t.same(msg('linux-rdma.json'), [
    'config.json /linux/resources/rdma/mlx5_1/hcaHandles: must be integer, got string "not a uint32"',
  ]);
  t.same(msg('freebsd-vnet-disable.json'), [
    'config.json /freebsd/jail/vnet: must be one of "new", "inherit", got "disable"',
  ]);
});

t.test('state examples', { skip: noExamples }, async (t) => {
  for (const f of examples('state', 'good')) t.doesNotThrow(() => validateState(readJson(f)), path.basename(f));
  for (const f of examples('state', 'bad')) {
    t.throws(() => validateState(JSON.parse(fs.readFileSync(f, 'utf8'))), path.basename(f));
  }
});

t.test('features examples', { skip: noExamples }, async (t) => {
  for (const f of examples('features', 'good')) t.doesNotThrow(() => validateFeatures(readJson(f)), path.basename(f));
  for (const f of examples('features', 'bad')) t.ok(featuresErrors(readJson(f)).length > 0, path.basename(f));
  t.throws(() => validateFeatures({ ociVersionMin: '1.1.0' }), {
    message: 'features /: missing required property "ociVersionMax"',
  });
});

t.test('validateState reports pointer and message', async (t) => {
  const good = { ociVersion: '1.3.0', id: 'c1', status: 'running', pid: 42, bundle: '/b' };
  t.doesNotThrow(() => validateState(good));
  t.throws(() => validateState({ ...good, status: 'bogus' }), {
    message: 'state /status: must be one of "creating", "created", "running", "stopped", got "bogus"',
    pointer: '/status',
  });
  const { id: _id, ...noId } = good;
  t.same(stateErrors({ ...noId, pid: -1 }), [
    { pointer: '/', message: 'missing required property "id"' },
    { pointer: '/pid', message: 'must be >= 0, got -1' },
  ]);
  try {
    validateState({ ...noId, pid: -1 });
    t.fail('should throw');
  } catch (e) {
    t.match((e as Error).message, /\(and 1 more error\)$/);
    t.equal((e as any).all.length, 2);
  }
});

t.test('friendly schema messages by keyword', async (t) => {
  const one = (mutate: (c: any) => void): string[] => {
    const c = baseConfig();
    mutate(c);
    return schemaErrors(c).map((e) => e.message);
  };
  t.same(one((c) => (c.linux.namespaces[0].type = 'bogus')), [
    'config.json /linux/namespaces/0/type: must be one of "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time", got "bogus"',
  ], 'enum, with the anyOf summary dropped');
  t.same(one((c) => (c.process.user.uid = -1)), ['config.json /process/user/uid: must be >= 0, got -1'], 'minimum');
  t.same(one((c) => (c.process.user.uid = 2 ** 32)), ['config.json /process/user/uid: must be <= 4294967295, got 4294967296'], 'maximum');
  t.same(one((c) => delete c.ociVersion), ['config.json /: missing required property "ociVersion"'], 'required');
  t.same(one((c) => (c.process.args = 'sh')), ['config.json /process/args: must be array, got string "sh"'], 'type');
  t.same(one((c) => (c.root = [])), ['config.json /root: must be object, got array'], 'type of a container');
  t.same(one((c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] })), [
    'config.json /linux/seccomp/syscalls/0/names: must have at least 1 item, got 0',
  ], 'minItems');
  t.same(one((c) => (c.process.rlimits = [{ type: 'nofile', soft: 1, hard: 1 }])), [
    'config.json /process/rlimits/0/type: must match /^RLIMIT_[A-Z]+$/, got "nofile"',
  ], 'pattern');
  t.same(one((c) => (c.linux.rootfsPropagation = 'rshared')), [
    'config.json /linux/rootfsPropagation: must be one of "private", "shared", "slave", "unbindable", got "rshared"',
  ], 'rootfsPropagation values');
  t.same(one((c) => (c.linux.devices = [{ type: 'x', path: '/dev/x' }])), [
    'config.json /linux/devices/0/type: must match /^[cbup]$/, got "x"',
  ], 'device type');
});

t.test('unknown keywords and additionalProperties are explained too', async (t) => {
  const doc = { mounts: [{ destination: '/x', bogus: 1 }] };
  const err = (keyword: string, instancePath: string, params: Record<string, any>, message?: string): SchemaErrorObject => ({
    keyword,
    instancePath,
    params,
    schemaPath: '#',
    message,
  });
  t.same(explainSchemaError(err('additionalProperties', '/mounts/0', { additionalProperty: 'bogus' }), doc), {
    pointer: '/mounts/0',
    message: 'unexpected property "bogus"',
  });
  t.same(explainSchemaError(err('weird', '/mounts/0/destination', {}, 'must be weird'), doc), {
    pointer: '/mounts/0/destination',
    message: 'must be weird, got "/x"',
  });
  t.same(explainSchemaError(err('maxItems', '/mounts', { limit: 0 }), doc), {
    pointer: '/mounts',
    message: 'must have at most 0 items, got 1',
  });
});

t.test('ranking: deepest first, summaries dropped', async (t) => {
  const e = (keyword: string, instancePath: string): SchemaErrorObject => ({ keyword, instancePath, params: {}, schemaPath: '#' });
  const ranked = rankSchemaErrors([
    e('type', '/a'),
    e('anyOf', '/b'),
    e('enum', '/b/0/type'),
    e('required', '/c'),
    e('anyOf', '/d'),
  ]);
  t.same(
    ranked.map((x) => `${x.keyword} ${x.instancePath}`),
    ['enum /b/0/type', 'required /c', 'type /a', 'anyOf /d'],
  );
});

t.test('several errors: most specific first, "(and N more errors)", all listed', async (t) => {
  const c = baseConfig();
  delete c.ociVersion;
  c.process.user.uid = -1;
  c.mounts[0] = { type: 'proc' };
  c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1.5 }];
  try {
    validateSpec(c, makeBundle());
    t.fail('should throw');
  } catch (e) {
    t.type(e, ConfigValidationError);
    t.type(e, ConfigError);
    const err = e as ConfigValidationError;
    t.equal(err.message, 'config.json /process/rlimits/0/hard: must be integer, got number 1.5 (and 3 more errors)');
    t.equal(err.pointer, '/process/rlimits/0/hard');
    t.same(err.all.map((x) => x.message), [
      'config.json /process/rlimits/0/hard: must be integer, got number 1.5',
      'config.json /mounts/0: missing required property "destination"',
      'config.json /process/user/uid: must be >= 0, got -1',
      'config.json /: missing required property "ociVersion"',
    ]);
    t.same(err.all.map((x) => x.pointer), ['/process/rlimits/0/hard', '/mounts/0', '/process/user/uid', '/']);
  }
});

t.test('a single error has no "(and N more)" suffix', async (t) => {
  const c = baseConfig();
  c.process.cwd = 'tmp';
  t.throws(() => validateSpec(c, makeBundle()), { message: 'config.json /process/cwd: must be an absolute path, got "tmp"' });
});

t.test('semantic checks only run after the schema passed', async (t) => {
  const c = baseConfig();
  c.process.user.uid = 'root';
  c.process.cwd = 'relative';
  const r = checkSpec(c, makeBundle());
  t.same(r.errors.map((e) => e.pointer), ['/process/user/uid']);
});

t.test('warnings are reported through onWarning', async (t) => {
  const c = baseConfig();
  c.mounts[0].destination = 'proc';
  const warnings: string[] = [];
  validateSpec(c, makeBundle(), { onWarning: (w) => warnings.push(w.message) });
  t.same(warnings, ['config.json /mounts/0/destination: relative destination "proc" is deprecated; it is taken relative to "/"']);
});

t.test('loadConfig: missing config.json', async (t) => {
  const bundle = makeBundle();
  t.throws(() => loadConfig(bundle), {
    message: `bundle ${bundle}: config.json: no such file or directory`,
    errno: 'ENOENT',
    path: path.join(bundle, 'config.json'),
  });
  t.throws(() => loadConfig('/nonexistent/bundle'), {
    message: 'bundle /nonexistent/bundle: config.json: no such file or directory',
    errno: 'ENOENT',
  });
});

t.test('loadConfig: invalid JSON names line and column', async (t) => {
  const bundle = makeBundle('{\n  "ociVersion": "1.3.0",\n}\n');
  t.throws(() => loadConfig(bundle), {
    message: `bundle ${bundle}: config.json: invalid JSON at line 3, column 1: Expected double-quoted property name`,
  });
  const b2 = makeBundle('{"a": tru}');
  t.throws(() => loadConfig(b2), { message: `bundle ${b2}: config.json: invalid JSON at line 1, column 10: Unexpected token '}'` });
  const b3 = makeBundle('');
  t.throws(() => loadConfig(b3), { message: `bundle ${b3}: config.json: invalid JSON at line 1, column 1: Unexpected end of JSON input` });
});

t.test('loadConfig: valid bundle returns the typed spec', async (t) => {
  const spec = loadConfig(makeBundle(baseConfig()));
  t.equal(spec.ociVersion, '1.3.0');
  t.equal(spec.process?.args?.[0], 'sh');
});

t.test('jsonErrorOffset agrees with JSON.parse', async (t) => {
  const cases: [string, number][] = [
    ['{}', -1],
    ['[1, -2.5e3, "x\\u00e9\\n", true, false, null, {"a": []}]', -1],
    ['{]', 1],
    ['{"a":1,}', 7],
    ['{"a" 1}', 5],
    ['[1 2]', 3],
    ['"abc', 4],
    ['"a\\x"', 3],
    ['01', 1],
    ['[1]x', 3],
    ['', 0],
    ['nul', 3],
    ['"tab\there"', 4],
  ];
  for (const [text, offset] of cases) {
    t.equal(jsonErrorOffset(text), offset, JSON.stringify(text));
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    t.equal(parses, offset === -1, `JSON.parse agrees on ${JSON.stringify(text)}`);
  }
  t.same(lineColumn('ab\ncd\nef', 7), { line: 3, column: 2 });
  t.same(lineColumn('abc', 0), { line: 1, column: 1 });
});
