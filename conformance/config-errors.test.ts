/**
 * "Runtimes MUST generate an error when invalid or unsupported values are
 * encountered" (config.md): one create per invalid config, each naming the
 * requirement it breaks. A rejected create must leave nothing behind.
 */
import * as fs from 'node:fs';
import { check, withRuntime } from './lib/check.js';
import { findCgroups, makeBundle, uniqueId } from './lib/runtime.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

withRuntime((rt) => {
  /** create must fail for this config, and nothing may be left behind. */
  function rejects(name: string, ids: string[], mutate: (c: Json) => void, opts: { todo?: string } = {}): void {
    check(name, ids, async (t) => {
      const id = uniqueId('inv');
      const b = makeBundle({ args: ['true'], mutate });
      const before = fs.readdirSync(rt.root).sort();
      const r = rt.run(['create', '--bundle', b.dir, id]);
      if (!t.not(r.code, 0, 'create fails')) {
        const s = rt.run(['start', id]);
        t.comment(`create accepted it; start: ${s.code} ${s.stderr}`);
        rt.run(['delete', '--force', id]);
        return;
      }
      t.ok(r.stderr.trim().length > 0, `an error is reported: ${r.stderr.trim().split('\n').pop()}`);
      t.not(rt.run(['state', id]).code, 0, 'no container');
      t.same(fs.readdirSync(rt.root).sort(), before, 'nothing under --root');
      t.same(findCgroups(id), [], 'no cgroup');
    }, opts);
  }

  /**
   * create must fail for this config text (what JSON.stringify cannot write: invalid UTF-8, exact
   * big integers) with `message`, quickly and before any work (nothing under --root).
   */
  function rejectsText(name: string, ids: string[], mutate: (c: Json) => void, rewrite: (text: string) => Buffer, message: string | RegExp): void {
    check(name, ids, async (t) => {
      const id = uniqueId('inv');
      const b = makeBundle({ args: ['true'], mutate });
      fs.writeFileSync(b.configPath, rewrite(fs.readFileSync(b.configPath, 'utf8')));
      const before = fs.readdirSync(rt.root).sort();
      const r = rt.run(['create', '--bundle', b.dir, id]);
      t.not(r.code, 0, 'create fails');
      t.match(r.stderr, message, 'with the reason');
      t.same(fs.readdirSync(rt.root).sort(), before, 'nothing under --root');
      if (r.code === 0) rt.run(['delete', '--force', id]);
    });
  }
  const raw = (placeholder: string, bytes: Buffer) => (text: string): Buffer => {
    const [a, z] = text.split(placeholder);
    return Buffer.concat([Buffer.from(a!), bytes, Buffer.from(z!)]);
  };
  const overlongDotDot = Buffer.from([0xc0, 0xae, 0xc0, 0xae]);
  for (const [what, mutate] of [
    ['hostname', (c: Json) => { c.hostname = 'h@@'; }],
    ['an env entry', (c: Json) => { c.process.env.push('X=@@'); }],
    ['a mount destination', (c: Json) => { c.mounts.push({ destination: '/tmp/@@/etc', type: 'tmpfs', source: 'tmpfs' }); }],
    ['process.cwd', (c: Json) => { c.process.cwd = '/@@'; }],
    ['cgroupsPath', (c: Json) => { c.linux.cgroupsPath = '/x/@@/y'; }],
    ['an annotation key', (c: Json) => { c.annotations = { 'k@@': 'v' }; }],
  ] as const) {
    rejectsText(`invalid UTF-8 (an overlong "..") in ${what}`, ['config.md#valid-values/1'], mutate, raw('@@', overlongDotDot), /config\.json: invalid UTF-8 at byte offset \d+ \(bytes 0xc0 0xae 0xc0 0xae\)/);
  }
  rejectsText('memory.limit beyond int64 (9223372036854775808)', ['config.md#valid-values/1'], (c) => { c.linux.resources = { memory: { limit: 1 } }; },
    (text) => Buffer.from(text.replace('"limit": 1', '"limit": 9223372036854775808')),
    'config.json /linux/resources/memory/limit: must fit in an int64 (-9223372036854775808 to 9223372036854775807), got 9223372036854775808');
  rejectsText('rlimit beyond uint64', ['config.md#valid-values/1'], () => {},
    (text) => Buffer.from(text.replace('"hard": 1024', '"hard": 18446744073709551616')),
    'config.json /process/rlimits/0/hard: must fit in a uint64');
  rejectsText('a 10 MB mount destination fails at once, on its length', ['config.md#valid-values/1'],
    (c) => { c.mounts.push({ destination: `/${'d'.repeat(10 * 1024 * 1024)}`, type: 'tmpfs', source: 'tmpfs' }); },
    (text) => Buffer.from(text), `config.json /mounts/${6}/destination: path too long (10485761 bytes; the kernel's PATH_MAX is 4096 bytes`);

  // config.md
  rejects('ociVersion that is not SemVer', ['config.md#specification-version/1', 'config.md#valid-values/1'], (c) => { c.ociVersion = 'one.two'; });
  rejects('ociVersion of an unsupported major version', ['config.md#specification-version/1', 'config.md#valid-values/1'], (c) => { c.ociVersion = '2.0.0'; });
  rejects('no root', ['config.md#root/3'], (c) => { delete c.root; });
  rejects('root without path', ['config.md#root/4'], (c) => { delete c.root.path; });
  rejects('root.path that is a file', ['config.md#root/6'], (c) => { c.root.path = '/etc/hostname'; });
  rejects('root.path that does not exist', ['config.md#root/6'], (c) => { c.root.path = '/no/such/rootfs'; });
  rejects('mount without destination', ['config.md#mounts/2'], (c) => { c.mounts.push({ type: 'tmpfs', source: 'tmpfs' }); });
  rejects('mount uidMappings without gidMappings', ['config.md#posix-platform-mounts/1'], (c) => {
    c.mounts.push({ destination: '/m', type: 'bind', source: '/tmp', options: ['bind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] });
  });
  rejects('mount gidMappings without uidMappings', ['config.md#posix-platform-mounts/2'], (c) => {
    c.mounts.push({ destination: '/m', type: 'bind', source: '/tmp', options: ['bind', 'idmap'], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] });
  });
  rejects('idmap mount without mappings and without a user namespace', ['config.md#linux-mount-options/39'], (c) => {
    c.mounts.push({ destination: '/m', type: 'bind', source: '/tmp', options: ['bind', 'idmap'] });
  });
  rejects('ridmap mount without mappings and without a user namespace', ['config.md#linux-mount-options/40'], (c) => {
    c.mounts.push({ destination: '/m', type: 'bind', source: '/tmp', options: ['rbind', 'ridmap'] });
  });
  rejects('process.cwd missing', ['config.md#process/5'], (c) => { delete c.process.cwd; });
  rejects('process.cwd relative', ['config.md#process/6'], (c) => { c.process.cwd = 'tmp'; });
  rejects('process.args empty', ['config.md#process/7'], (c) => { c.process.args = []; });
  rejects('consoleSize without height', ['config.md#process/3'], (c) => { c.process.consoleSize = { width: 10 }; });
  rejects('consoleSize without width', ['config.md#process/4'], (c) => { c.process.consoleSize = { height: 10 }; });
  rejects('process.user.uid missing', ['config.md#posix-platform-user/1'], (c) => { delete c.process.user.uid; });
  rejects('process.user.gid missing', ['config.md#posix-platform-user/2'], (c) => { delete c.process.user.gid; });
  rejects('rlimit without type', ['config.md#posix-process/1'], (c) => { c.process.rlimits = [{ soft: 1, hard: 1 }]; });
  rejects('rlimit type the kernel does not know', ['config.md#posix-process/2'], (c) => { c.process.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]; });
  rejects('rlimit without soft', ['config.md#posix-process/4'], (c) => { c.process.rlimits = [{ type: 'RLIMIT_CORE', hard: 1 }]; });
  rejects('rlimit without hard', ['config.md#posix-process/6'], (c) => { c.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 1 }]; });
  rejects('rlimits with a duplicated type', ['config.md#posix-process/8'], (c) => {
    c.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 1, hard: 1 }, { type: 'RLIMIT_CORE', soft: 2, hard: 2 }];
  });
  rejects('scheduler without policy', ['config.md#linux-process/4'], (c) => { c.process.scheduler = { nice: 1 }; });
  rejects('ioPriority without class', ['config.md#linux-process/5'], (c) => { c.process.ioPriority = { priority: 1 }; });
  rejects('ioPriority without priority', ['config.md#linux-process/6'], (c) => { c.process.ioPriority = { class: 'IOPRIO_CLASS_BE' }; });
  rejects('oomScoreAdj outside -1000..1000', ['config.md#valid-values/1'], (c) => { c.process.oomScoreAdj = 5000; });
  rejects('hook without path', ['config.md#posix-platform-hooks/1'], (c) => { c.hooks = { poststart: [{ args: ['x'] }] }; });
  rejects('prestart hook path relative', ['config.md#posix-platform-hooks/2'], (c) => { c.hooks = { prestart: [{ path: 'bin/true' }] }; });
  rejects('prestart hook timeout 0', ['config.md#posix-platform-hooks/3'], (c) => { c.hooks = { prestart: [{ path: '/bin/true', timeout: 0 }] }; });
  rejects('createRuntime hook without path', ['config.md#posix-platform-hooks/5'], (c) => { c.hooks = { createRuntime: [{ args: ['x'] }] }; });
  rejects('createRuntime hook path relative', ['config.md#posix-platform-hooks/7'], (c) => { c.hooks = { createRuntime: [{ path: 'bin/true' }] }; });
  rejects('createRuntime hook timeout negative', ['config.md#posix-platform-hooks/8'], (c) => { c.hooks = { createRuntime: [{ path: '/bin/true', timeout: -1 }] }; });
  rejects('createContainer hook path relative', ['config.md#posix-platform-hooks/7'], (c) => { c.hooks = { createContainer: [{ path: 'true' }] }; });
  rejects('startContainer hook path relative', ['config.md#posix-platform-hooks/7'], (c) => { c.hooks = { startContainer: [{ path: 'true' }] }; });
  rejects('poststart hook timeout 0', ['config.md#posix-platform-hooks/8'], (c) => { c.hooks = { poststart: [{ path: '/bin/true', timeout: 0 }] }; });
  rejects('poststop hook path relative', ['config.md#posix-platform-hooks/7'], (c) => { c.hooks = { poststop: [{ path: 'true' }] }; });
  rejects('annotations that are not a map', ['config.md#annotations/1'], (c) => { c.annotations = ['a=b']; });
  rejects('annotation key that is empty', ['config.md#annotations/3'], (c) => { c.annotations = { '': 'x' }; });
  rejects('annotation value that is not a string', ['config.md#annotations/15'], (c) => { c.annotations = { 'org.example.n': 1 }; });

  // config-linux.md
  rejects('namespace without type', ['config-linux.md#namespaces/1'], (c) => { c.linux.namespaces.push({ path: '/proc/self/ns/net' }); });
  rejects('namespace type unknown', ['config-linux.md#namespaces/1', 'config.md#valid-values/1'], (c) => { c.linux.namespaces.push({ type: 'bogus' }); });
  rejects('namespace path relative', ['config-linux.md#namespaces/2'], (c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: Json) => n.type !== 'network');
    c.linux.namespaces.push({ type: 'network', path: 'proc/1/ns/net' });
  });
  rejects('namespace type duplicated', ['config-linux.md#namespaces/7'], (c) => { c.linux.namespaces.push({ type: 'pid' }); });
  rejects('uidMappings entry without containerID', ['config-linux.md#user-namespace-mappings/1'], (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ hostID: 0, size: 1 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
  });
  rejects('uidMappings entry without hostID', ['config-linux.md#user-namespace-mappings/2'], (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, size: 1 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
  });
  rejects('gidMappings entry without size', ['config-linux.md#user-namespace-mappings/3'], (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 0 }];
  });
  rejects('device type unknown', ['config-linux.md#devices/2'], (c) => { c.linux.devices = [{ path: '/dev/x', type: 'z', major: 1, minor: 3 }]; });
  rejects('device without path', ['config-linux.md#devices/3'], (c) => { c.linux.devices = [{ type: 'c', major: 1, minor: 3 }]; });
  rejects('char device without major', ['config-linux.md#devices/5'], (c) => { c.linux.devices = [{ path: '/dev/x', type: 'c', minor: 3 }]; });
  rejects('device cgroup rule without allow', ['config-linux.md#allowed-device-list/2'], (c) => { c.linux.resources = { devices: [{ access: 'rwm' }] }; });
  rejects('blockIO weightDevice without weight or leafWeight', ['config-linux.md#block-io/2'], (c) => {
    c.linux.resources = { blockIO: { weightDevice: [{ major: 8, minor: 0 }] } };
  });
  rejects('blockIO weightDevice without major', ['config-linux.md#block-io/1'], (c) => { c.linux.resources = { blockIO: { weightDevice: [{ minor: 0, weight: 10 }] } }; });
  rejects('blockIO bps throttle without major', ['config-linux.md#block-io/3'], (c) => {
    c.linux.resources = { blockIO: { throttleReadBpsDevice: [{ minor: 0, rate: 1 }] } };
  });
  rejects('blockIO bps throttle without rate', ['config-linux.md#block-io/4'], (c) => {
    c.linux.resources = { blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0 }] } };
  });
  rejects('blockIO iops throttle without minor', ['config-linux.md#block-io/5'], (c) => {
    c.linux.resources = { blockIO: { throttleWriteIOPSDevice: [{ major: 8, rate: 1 }] } };
  });
  rejects('blockIO iops throttle without rate', ['config-linux.md#block-io/6'], (c) => {
    c.linux.resources = { blockIO: { throttleWriteIOPSDevice: [{ major: 8, minor: 0 }] } };
  });
  rejects('hugepage limit without pageSize', ['config-linux.md#huge-page-limits/1'], (c) => { c.linux.resources = { hugepageLimits: [{ limit: 1 }] }; });
  rejects('hugepage limit without limit', ['config-linux.md#huge-page-limits/2'], (c) => { c.linux.resources = { hugepageLimits: [{ pageSize: '2MB' }] }; });
  rejects('network priority without name', ['config-linux.md#network/1'], (c) => { c.linux.resources = { network: { priorities: [{ priority: 1 }] } }; });
  rejects('network priority without priority', ['config-linux.md#network/2'], (c) => { c.linux.resources = { network: { priorities: [{ name: 'eth0' }] } }; });
  rejects('rdma entry without hcaHandles or hcaObjects', ['config-linux.md#rdma/1'], (c) => { c.linux.resources = { rdma: { mlx5_0: {} } }; });
  rejects('cpu quota smaller than burst', ['config-linux.md#cpu/1', 'config-linux.md#cpu/2'], (c) => {
    c.linux.resources = { cpu: { quota: 1000, burst: 5000, period: 100000 } };
  });
  rejects('unified key naming a controller that does not exist', ['config-linux.md#unified/3'], (c) => {
    c.linux.resources = { unified: { 'nosuchcontroller.max': '1' } };
  });
  rejects('cgroupsPath with ..', ['config-linux.md#cgroups-path/4'], (c) => { c.linux.cgroupsPath = '/../../escape'; });
  rejects('seccomp without defaultAction', ['config-linux.md#seccomp/1'], (c) => { c.linux.seccomp = { syscalls: [] }; });
  rejects('seccomp defaultErrnoRet with an action that has no errno', ['config-linux.md#seccomp/2'], (c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 };
  });
  rejects('seccomp listenerMetadata without listenerPath', ['config-linux.md#seccomp/8'], (c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' };
  });
  rejects('seccomp rule without names', ['config-linux.md#seccomp/9'], (c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ action: 'SCMP_ACT_ERRNO' }] };
  });
  rejects('seccomp rule with empty names', ['config-linux.md#seccomp/10'], (c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] };
  });
  rejects('seccomp rule without action', ['config-linux.md#seccomp/11'], (c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'] }] };
  });
  rejects('seccomp rule errnoRet with an action that has no errno', ['config-linux.md#seccomp/12'], (c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] };
  });
  rejects('seccomp argument without index', ['config-linux.md#seccomp/13'], (c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ value: 1, op: 'SCMP_CMP_EQ' }] }] };
  });
  rejects('seccomp argument without value', ['config-linux.md#seccomp/14'], (c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_EQ' }] }] };
  });
  rejects('seccomp argument without op', ['config-linux.md#seccomp/15'], (c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1 }] }] };
  });
  rejects('maskedPaths entry relative', ['config-linux.md#masked-paths/1'], (c) => { c.linux.maskedPaths = ['proc/kcore']; });
  rejects('readonlyPaths entry relative', ['config-linux.md#readonly-paths/1'], (c) => { c.linux.readonlyPaths = ['proc/sys']; });
  rejects('personality without domain', ['config-linux.md#personality/1'], (c) => { c.linux.personality = { flags: [] }; });
  rejects('memoryPolicy without mode', ['config-linux.md#memory-policy/1'], (c) => { c.linux.memoryPolicy = { nodes: '0' }; });
  rejects('intelRdt memBwSchema that does not start with MB:', ['config-linux.md#intelrdt/5'], (c) => { c.linux.intelRdt = { closID: 'x', memBwSchema: 'L3:0=ff' }; });
  rejects('intelRdt memBwSchema with a newline', ['config-linux.md#intelrdt/5'], (c) => { c.linux.intelRdt = { closID: 'x', memBwSchema: 'MB:0=100\nMB:1=100' }; });
  rejects('intelRdt schemata line with a newline', ['config-linux.md#intelrdt/6'], (c) => { c.linux.intelRdt = { closID: 'x', schemata: ['L3:0=ff\nL3:1=ff'] }; });
  rejects('intelRdt without a resctrl filesystem', ['config-linux.md#intelrdt/2'], (c) => { c.linux.intelRdt = { closID: 'conformance' }; });
  rejects('netDevices for an interface that does not exist', ['config-linux.md#network-devices/2'], (c) => { c.linux.netDevices = { 'conf-nosuch0': {} }; });
});
