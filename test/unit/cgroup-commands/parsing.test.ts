/**
 * The pure parts of pause/update/events/ps: Go duration and size parsing,
 * runc's update flags, the LinuxResources document check, the merge into
 * the saved config, and the ps(1) output filter.
 */
import t from 'tap';
import { parseGoDuration } from '../../../src/container/events.js';
import { filterPsOutput, pidColumn } from '../../../src/container/ps.js';
import { mergeResources, parseGoInt, parseMemoryFlag, parseResourcesJson, ramInBytes, resourcesFromFlags } from '../../../src/container/update.js';
import { ensureValidators } from '../spec/setup.js';

t.before(ensureValidators);

t.test('Go durations', async (t) => {
  const ok: [string, number][] = [
    ['5s', 5000], ['500ms', 500], ['1m', 60_000], ['1m30s', 90_000], ['1.5h', 5_400_000], ['0', 0], ['-2s', -2000],
    ['250us', 0.25], ['250µs', 0.25], ['1000000ns', 1], ['2h45m', 9_900_000], ['.5s', 500], ['1.s', 1000], ['+3s', 3000],
  ];
  for (const [s, ms] of ok) t.equal(parseGoDuration(s), ms, s);
  t.throws(() => parseGoDuration(''), /invalid duration ""/);
  t.throws(() => parseGoDuration('abc'), /invalid duration "abc"/);
  t.throws(() => parseGoDuration('5'), /missing unit in duration "5"/);
  t.throws(() => parseGoDuration('5x'), /unknown unit "x" in duration "5x"/);
  t.throws(() => parseGoDuration('s'), /invalid duration/);
  t.throws(() => parseGoDuration('1s 2s'), /invalid duration|unknown unit/);
});

t.test('sizes as docker/go-units RAMInBytes, -1 for unlimited', async (t) => {
  const ok: [string, number][] = [
    ['1024', 1024], ['100m', 100 * 2 ** 20], ['100M', 100 * 2 ** 20], ['1g', 2 ** 30], ['1.5g', 1.5 * 2 ** 30], ['512k', 512 * 1024],
    ['2 GiB', 2 * 2 ** 30], ['64mb', 64 * 2 ** 20], ['1t', 2 ** 40], ['10b', 10], ['0', 0],
  ];
  for (const [s, n] of ok) t.equal(ramInBytes(s), n, s);
  for (const s of ['', '12x', '-5m', '1.2.3g', 'm', '1 g b', '1gg']) t.throws(() => ramInBytes(s), { message: `invalid size: '${s}'` }, s);
  t.equal(parseMemoryFlag('memory', '-1'), -1);
  t.throws(() => parseMemoryFlag('memory-swap', '-2'), { message: "invalid value for memory-swap: invalid size: '-2'" });
});

t.test('integers as Go strconv', async (t) => {
  t.equal(parseGoInt('cpu-quota', '-1', false), -1);
  t.equal(parseGoInt('cpu-period', '100000', true), 100000);
  t.equal(parseGoInt('cpu-period', '+7', true), 7);
  t.throws(() => parseGoInt('cpu-period', '-1', true), { message: 'invalid value for cpu-period: strconv.ParseUint: parsing "-1": invalid syntax' });
  t.throws(() => parseGoInt('cpu-quota', '1.5', false), { message: 'invalid value for cpu-quota: strconv.ParseInt: parsing "1.5": invalid syntax' });
  t.throws(() => parseGoInt('cpu-quota', '9223372036854775808', false), /value out of range/);
});

t.test('runc update flags → LinuxResources (only what is given)', async (t) => {
  t.same(resourcesFromFlags({}), {});
  t.same(resourcesFromFlags({ memory: '64m' }), { memory: { limit: 64 * 2 ** 20 } });
  t.same(resourcesFromFlags({
    memory: '-1', 'memory-swap': '1g', 'memory-reservation': '10m', 'cpu-share': '512', 'cpu-quota': '20000', 'cpu-period': '100000',
    'cpu-rt-period': '1000000', 'cpu-rt-runtime': '950000', 'cpu-burst': '1000', 'cpu-idle': '1', 'cpuset-cpus': '0-1', 'cpuset-mems': '0',
    'pids-limit': 0, 'blkio-weight': 500,
  }), {
    memory: { limit: -1, swap: 2 ** 30, reservation: 10 * 2 ** 20 },
    cpu: { shares: 512, quota: 20000, period: 100000, realtimePeriod: 1000000, realtimeRuntime: 950000, burst: 1000, idle: 1, cpus: '0-1', mems: '0' },
    pids: { limit: 0 },
    blockIO: { weight: 500 },
  }, 'every flag; pids-limit 0 is a real limit (runtime-spec 1.3)');
  t.same(resourcesFromFlags({ 'blkio-weight': 0 }), {}, 'blkio-weight 0 is "not given"');
  t.same(resourcesFromFlags({ 'kernel-memory': '10m' }), {}, 'kernel memory is ignored');
  t.throws(() => resourcesFromFlags({ 'kernel-memory': 'lots' }), /invalid value for kernel-memory/);
});

t.test('LinuxResources documents: schema errors name the pointer in the document', async (t) => {
  t.same(await parseResourcesJson('{"memory":{"limit":1048576,"swap":null},"pids":{"limit":-1}}', 'r'), { memory: { limit: 1048576 }, pids: { limit: -1 } }, 'null is absent (as Go)');
  t.same(await parseResourcesJson('{}', 'r'), {});
  await t.rejects(parseResourcesJson('{"memory":{"limit":"1g"}}', 'resources x.json'), { message: /^resources x\.json \/memory\/limit: must be integer, got string "1g"/, pointer: '/memory/limit' });
  // integers are checked against their C type first (src/spec/bounds.ts), as in config.json
  await t.rejects(parseResourcesJson('{"cpu":{"shares":-1}}', 'r'), { message: /^r \/cpu\/shares: must not be negative, got -1/, pointer: '/cpu/shares' });
  await t.rejects(parseResourcesJson('{"blockIO":{"weight":70000}}', 'r'), { message: /^r \/blockIO\/weight: must fit in a uint16 \(0 to 65535\), got 70000/, pointer: '/blockIO/weight' });
  await t.rejects(parseResourcesJson('{"devices":[{"allow":"yes"}]}', 'r'), { message: /^r \/devices\/0\/allow: must be boolean/ });
  await t.rejects(parseResourcesJson('"x"', 'r'), { message: /^r \/: must be a LinuxResources object/ });
  await t.rejects(parseResourcesJson('{\n  "memory": {\n    "limit": 1,\n  }\n}', 'r'), { message: /^r: invalid JSON at line 4, column 3/ });
});

t.test('merge into the saved resources: zero keeps the old value', async (t) => {
  const old = {
    devices: [{ allow: false, access: 'rwm' }],
    memory: { limit: 100, reservation: 50, swap: 200 },
    cpu: { quota: 20000, period: 100000, shares: 512, cpus: '0-1' },
    pids: { limit: 20 },
    blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }] },
    unified: { 'memory.high': '1000' },
  };
  const docker = { memory: { limit: 128, reservation: 0, swap: 256, kernel: 0 }, cpu: { shares: 0, quota: 25000, period: 100000, cpus: '' }, pids: { limit: 60 }, blockIO: { weight: 0 } };
  t.same(mergeResources(old, docker), {
    devices: [{ allow: false, access: 'rwm' }],
    memory: { limit: 128, reservation: 50, swap: 256 },
    cpu: { quota: 25000, period: 100000, shares: 512, cpus: '0-1' },
    pids: { limit: 60 },
    blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }] },
    unified: { 'memory.high': '1000' },
  });
  const m = mergeResources(old, {
    pids: { limit: 0 },
    blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 0 }, { major: 8, minor: 16, rate: 5 }] },
    unified: { 'memory.max': '2000' },
    hugepageLimits: [{ pageSize: '2MB', limit: 4 }],
  });
  t.same(m.pids, { limit: 0 }, 'pids 0 is a value');
  t.same(m.blockIO?.throttleReadBpsDevice, [{ major: 8, minor: 16, rate: 5 }], 'rate 0 removes a throttle');
  t.same(m.unified, { 'memory.high': '1000', 'memory.max': '2000' });
  t.same(m.hugepageLimits, [{ pageSize: '2MB', limit: 4 }]);
  t.same(old.pids, { limit: 20 }, 'the old object is not modified');
  t.same(mergeResources({}, { blockIO: { weight: 0 } }), {}, 'no empty blockIO');
});

t.test('ps output filter', async (t) => {
  const out = [
    'UID          PID    PPID  C STIME TTY          TIME CMD',
    'root           1       0  0 09:00 ?        00:00:01 /sbin/init',
    'root         100       1  0 09:00 ?        00:00:00 sleep 100',
    'root         101     100  0 09:00 ?        00:00:00 sh -c echo 1 2 3',
    '',
  ].join('\n');
  t.equal(pidColumn('  PID TTY'), 0);
  t.equal(filterPsOutput(out, [100, 101, 7]), [out.split('\n')[0], out.split('\n')[2], out.split('\n')[3]].join('\n') + '\n');
  t.equal(filterPsOutput(out, []), out.split('\n')[0] + '\n', 'only the header');
  t.throws(() => filterPsOutput('COMMAND\nsleep\n', [1]), { message: "couldn't find PID field in ps output" });
  t.throws(() => filterPsOutput('PID CMD\nabc x\n', [1]), /unable to parse pid/);
});
