import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkSpec, detailOf, type CheckResult } from '../../../src/spec/validate.js';
import { RLIMITS, rlimitNumber } from '../../../src/spec/rlimits.js';
import { sysctlNamespace, type SemanticOptions } from '../../../src/spec/semantic.js';
import { baseConfig, ensureValidators, makeBundle } from './setup.js';

t.before(ensureValidators);

const bundle = makeBundle();

function check(mutate: (c: any) => void, opts: SemanticOptions = {}, dir = bundle): CheckResult {
  const c = baseConfig();
  mutate(c);
  return checkSpec(c, dir, opts);
}

interface Case {
  name: string;
  mutate: (c: any) => void;
  pointer: string;
  message: string;
  opts?: SemanticOptions;
}

/** Each case breaks one rule of a valid config and expects exactly one error. */
const CASES: Case[] = [
  // ociVersion
  { name: 'ociVersion not semver', mutate: (c) => (c.ociVersion = '1.3'), pointer: '/ociVersion',
    message: 'must be a SemVer 2.0.0 version such as "1.3.0", got "1.3"' },
  { name: 'ociVersion garbage', mutate: (c) => (c.ociVersion = 'latest'), pointer: '/ociVersion',
    message: 'must be a SemVer 2.0.0 version such as "1.3.0", got "latest"' },
  { name: 'ociVersion 2.x', mutate: (c) => (c.ociVersion = '2.0.0'), pointer: '/ociVersion',
    message: 'unsupported version "2.0.0": runts supports 1.0.0 to 1.3.x' },
  { name: 'ociVersion 1.4', mutate: (c) => (c.ociVersion = '1.4.0'), pointer: '/ociVersion',
    message: 'unsupported version "1.4.0": runts supports 1.0.0 to 1.3.x' },
  { name: 'ociVersion 0.x', mutate: (c) => (c.ociVersion = '0.5.0-dev'), pointer: '/ociVersion',
    message: 'unsupported version "0.5.0-dev": runts supports 1.0.0 to 1.3.x' },
  // root
  { name: 'root missing', mutate: (c) => delete c.root, pointer: '/', message: 'missing required property "root" (required on Linux)' },
  { name: 'root.path empty', mutate: (c) => (c.root.path = ''), pointer: '/root/path', message: 'must not be empty' },
  { name: 'rootfs missing', mutate: (c) => (c.root.path = 'nope'), pointer: '/root/path',
    message: `root filesystem ${path.join(bundle, 'nope')}: no such file or directory` },
  { name: 'rootfs not a directory', mutate: (c) => (c.root.path = 'config.json'), pointer: '/root/path',
    message: `root filesystem ${path.join(bundle, 'config.json')}: not a directory` },
  // process
  { name: 'process missing', mutate: (c) => delete c.process, pointer: '/',
    message: 'missing required property "process" (needed to create a container)' },
  { name: 'args missing', mutate: (c) => delete c.process.args, pointer: '/process/args',
    message: 'must have at least one entry on Linux, got nothing' },
  { name: 'args empty', mutate: (c) => (c.process.args = []), pointer: '/process/args',
    message: 'must have at least one entry on Linux, got []' },
  { name: 'commandLine instead of args', mutate: (c) => ((c.process.args = undefined), (c.process.commandLine = 'sh')),
    pointer: '/process/args', message: 'must have at least one entry on Linux (commandLine is only used on Windows), got nothing' },
  { name: 'args[0] empty', mutate: (c) => (c.process.args = ['']), pointer: '/process/args/0',
    message: 'must not be empty: it names the program to run' },
  { name: 'NUL in args', mutate: (c) => (c.process.args = ['sh', 'a\0b']), pointer: '/process/args/1',
    message: 'must not contain a NUL character' },
  { name: 'cwd relative', mutate: (c) => (c.process.cwd = 'home'), pointer: '/process/cwd', message: 'must be an absolute path, got "home"' },
  { name: 'env without =', mutate: (c) => c.process.env.push('FOO'), pointer: '/process/env/1',
    message: 'must have the form NAME=value, got "FOO"' },
  { name: 'env empty name', mutate: (c) => c.process.env.push('=x'), pointer: '/process/env/1',
    message: 'variable name must not be empty, got "=x"' },
  { name: 'uid missing', mutate: (c) => delete c.process.user.uid, pointer: '/process/user', message: 'missing required property "uid"' },
  { name: 'umask too big', mutate: (c) => (c.process.user.umask = 0o1000), pointer: '/process/user/umask',
    message: 'must be <= 511 (0o777), got 512' },
  { name: 'unknown rlimit', mutate: (c) => (c.process.rlimits = [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }]),
    pointer: '/process/rlimits/0/type', message: `unknown resource "RLIMIT_FOO"; must be one of ${Object.keys(RLIMITS).join(', ')}` },
  { name: 'duplicate rlimit', mutate: (c) => (c.process.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_CORE', soft: 1, hard: 1 }, { type: 'RLIMIT_NOFILE', soft: 2, hard: 2 }]),
    pointer: '/process/rlimits/2/type', message: 'duplicate rlimit "RLIMIT_NOFILE", already set at /process/rlimits/0' },
  { name: 'rlimit soft > hard', mutate: (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 2048, hard: 1024 }]),
    pointer: '/process/rlimits/0', message: 'soft limit 2048 must be <= hard limit 1024' },
  { name: 'unknown capability (bounding)', mutate: (c) => (c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_BOGUS'] }),
    pointer: '/process/capabilities/bounding/1', message: 'unknown capability "CAP_BOGUS"' },
  { name: 'unknown capability (effective), with a hint', mutate: (c) => (c.process.capabilities = { effective: ['chown'] }),
    pointer: '/process/capabilities/effective/0', message: 'unknown capability "chown" (did you mean "CAP_CHOWN"?)' },
  { name: 'unknown capability (inheritable)', mutate: (c) => (c.process.capabilities = { inheritable: ['CAP_X'] }),
    pointer: '/process/capabilities/inheritable/0', message: 'unknown capability "CAP_X"' },
  { name: 'unknown capability (permitted)', mutate: (c) => (c.process.capabilities = { permitted: ['CAP_X'] }),
    pointer: '/process/capabilities/permitted/0', message: 'unknown capability "CAP_X"' },
  { name: 'unknown capability (ambient)', mutate: (c) => (c.process.capabilities = { ambient: ['CAP_X'] }),
    pointer: '/process/capabilities/ambient/0', message: 'unknown capability "CAP_X"' },
  { name: 'oomScoreAdj range', mutate: (c) => (c.process.oomScoreAdj = 1001), pointer: '/process/oomScoreAdj',
    message: 'must be between -1000 and 1000, got 1001' },
  { name: 'ioPriority range', mutate: (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }),
    pointer: '/process/ioPriority/priority', message: 'must be between 0 and 7, got 8' },
  { name: 'ioPriority priority missing', mutate: (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE' }),
    pointer: '/process/ioPriority', message: 'missing required property "priority"' },
  { name: 'scheduler nice', mutate: (c) => (c.process.scheduler = { policy: 'SCHED_OTHER', nice: 20 }),
    pointer: '/process/scheduler/nice', message: 'must be between -20 and 19, got 20' },
  { name: 'scheduler FIFO priority', mutate: (c) => (c.process.scheduler = { policy: 'SCHED_FIFO' }),
    pointer: '/process/scheduler/priority', message: 'must be between 1 and 99 for SCHED_FIFO, got nothing' },
  { name: 'scheduler OTHER priority', mutate: (c) => (c.process.scheduler = { policy: 'SCHED_OTHER', priority: 5 }),
    pointer: '/process/scheduler/priority', message: 'must be 0 for SCHED_OTHER, got 5' },
  { name: 'scheduler deadline', mutate: (c) => (c.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 10, deadline: 5 }),
    pointer: '/process/scheduler/runtime', message: 'must be <= deadline (5), got 10' },
  // mounts
  { name: 'mount destination empty', mutate: (c) => (c.mounts[0].destination = ''), pointer: '/mounts/0/destination',
    message: 'must not be empty' },
  { name: 'mount option empty', mutate: (c) => (c.mounts[0].options = ['nosuid', '']), pointer: '/mounts/0/options/1',
    message: 'must not be an empty string' },
  { name: 'mount option NUL', mutate: (c) => (c.mounts[0].options = ['mode=1\0']), pointer: '/mounts/0/options/0',
    message: 'must not contain a NUL character' },
  { name: 'bind mount without source', mutate: (c) => c.mounts.push({ destination: '/data', options: ['rbind'] }),
    pointer: '/mounts/1', message: 'missing required property "source" (required for bind mounts)' },
  { name: 'mount uidMappings without gidMappings',
    mutate: (c) => c.mounts.push({ destination: '/d', source: '/d', options: ['bind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] }),
    pointer: '/mounts/1', message: 'uidMappings must be specified along with gidMappings' },
  { name: 'mount gidMappings without uidMappings',
    mutate: (c) => c.mounts.push({ destination: '/d', source: '/d', options: ['bind', 'idmap'], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] }),
    pointer: '/mounts/1', message: 'gidMappings must be specified along with uidMappings' },
  { name: 'idmapped tmpfs in a container with a user namespace (not supported)', mutate: (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.mounts.push({ destination: '/d', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] });
  }, pointer: '/mounts/1/options', message: 'an idmapped mount that is not a bind mount is not supported by runts in a container with its own user namespace' },
  { name: 'idmap without mappings or user namespace', mutate: (c) => c.mounts.push({ destination: '/d', source: '/d', options: ['rbind', 'ridmap'] }),
    pointer: '/mounts/1/options', message: '"ridmap" needs uidMappings and gidMappings on the mount or a user namespace' },
  { name: 'tmpcopyup on a bind mount', mutate: (c) => c.mounts.push({ destination: '/d', source: '/d', options: ['rbind', 'tmpcopyup'] }),
    pointer: '/mounts/1/options/1', message: 'mount option "tmpcopyup" is only valid for tmpfs mounts, not a bind mount' },
  { name: 'tmpcopyup on proc', mutate: (c) => (c.mounts[0].options = ['tmpcopyup']), pointer: '/mounts/0/options/0',
    message: `mount option "tmpcopyup" is only valid for tmpfs mounts, not type "${'proc'}"` },
  // hooks, annotations
  { name: 'hook path relative', mutate: (c) => (c.hooks = { poststop: [{ path: 'cleanup.sh' }] }), pointer: '/hooks/poststop/0/path',
    message: 'must be an absolute path, got "cleanup.sh"' },
  { name: 'empty annotation key', mutate: (c) => (c.annotations = { '': 'x' }), pointer: '/annotations', message: 'keys must not be empty' },
  // namespaces
  { name: 'duplicate namespace', mutate: (c) => c.linux.namespaces.push({ type: 'pid', path: '/proc/1/ns/pid' }),
    pointer: '/linux/namespaces/5/type', message: 'duplicate namespace type "pid", already listed at /linux/namespaces/0' },
  { name: 'namespace path relative', mutate: (c) => (c.linux.namespaces[4] = { type: 'network', path: 'netns' }),
    pointer: '/linux/namespaces/4/path', message: 'must be an absolute path, got "netns"' },
  { name: 'new user namespace without uidMappings', mutate: (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }, pointer: '/linux/uidMappings', message: 'required when a new user namespace is created' },
  { name: 'mappings without a user namespace', mutate: (c) => (c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
    pointer: '/linux/gidMappings', message: 'set, but no user namespace is requested in /linux/namespaces' },
  { name: 'mappings with a joined user namespace', mutate: (c) => {
      c.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    }, pointer: '/linux/uidMappings', message: 'cannot be applied to the user namespace joined through /linux/namespaces/5/path' },
  { name: 'mapping of size 0', mutate: (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 0 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    }, pointer: '/linux/uidMappings/0/size', message: 'must be >= 1, got 0' },
  { name: 'overlapping mappings', mutate: (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 500, hostID: 200000, size: 10 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
    }, pointer: '/linux/uidMappings/1', message: 'overlaps /linux/uidMappings/0' },
  { name: 'mapping beyond 32 bits', mutate: (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 4294967295, size: 2 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
    }, pointer: '/linux/uidMappings/0', message: 'range goes beyond the 32-bit id space' },
  { name: 'hostname without uts namespace', mutate: (c) => c.linux.namespaces.splice(2, 1), pointer: '/hostname',
    message: 'setting the hostname needs a uts namespace in /linux/namespaces' },
  { name: 'domainname without uts namespace', mutate: (c) => ((c.domainname = 'example.com'), delete c.hostname, c.linux.namespaces.splice(2, 1)),
    pointer: '/domainname', message: 'setting the domainname needs a uts namespace in /linux/namespaces' },
  { name: 'timeOffsets without time namespace', mutate: (c) => (c.linux.timeOffsets = { monotonic: { secs: 10 } }),
    pointer: '/linux/timeOffsets', message: 'timeOffsets needs a time namespace in /linux/namespaces' },
  { name: 'timeOffsets with a joined time namespace', mutate: (c) => {
      c.linux.namespaces.push({ type: 'time', path: '/proc/1/ns/time' });
      c.linux.timeOffsets = { boottime: { secs: 1 } };
    }, pointer: '/linux/timeOffsets', message: 'timeOffsets cannot be applied to the time namespace joined through /linux/namespaces/5/path' },
  { name: 'timeOffsets unknown clock', mutate: (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { realtime: { secs: 1 } };
    }, pointer: '/linux/timeOffsets/realtime', message: 'unknown clock "realtime"; must be "boottime" or "monotonic"' },
  // devices
  { name: 'device without major', mutate: (c) => (c.linux.devices = [{ type: 'c', path: '/dev/fuse', minor: 229 }]),
    pointer: '/linux/devices/0', message: 'missing required property "major" (required unless type is "p")' },
  { name: 'device path relative', mutate: (c) => (c.linux.devices = [{ type: 'p', path: 'dev/fifo' }]),
    pointer: '/linux/devices/0/path', message: 'must be an absolute path, got "dev/fifo"' },
  // sysctl
  { name: 'sysctl bad name', mutate: (c) => (c.linux.sysctl = { 'net..ipv4': '1' }), pointer: '/linux/sysctl/net..ipv4',
    message: 'invalid sysctl name "net..ipv4"' },
  { name: 'sysctl path traversal', mutate: (c) => (c.linux.sysctl = { 'net/../../x': '1' }), pointer: '/linux/sysctl/net~1..~1..~1x',
    message: 'invalid sysctl name "net/../../x"' },
  { name: 'sysctl not namespaced', mutate: (c) => (c.linux.sysctl = { 'vm.swappiness': '10' }), pointer: '/linux/sysctl/vm.swappiness',
    message: 'sysctl "vm.swappiness" is not namespaced: setting it would change the host' },
  { name: 'net sysctl without network namespace', mutate: (c) => ((c.linux.sysctl = { 'net.ipv4.ip_forward': '1' }), c.linux.namespaces.pop()),
    pointer: '/linux/sysctl/net.ipv4.ip_forward', message: 'sysctl "net.ipv4.ip_forward" needs a network namespace in /linux/namespaces' },
  // cgroups
  { name: 'cgroupsPath with ..', mutate: (c) => (c.linux.cgroupsPath = '/runts/../../escape'), pointer: '/linux/cgroupsPath',
    message: 'must not contain ".." components, got "/runts/../../escape"' },
  { name: 'device rule type', mutate: (c) => (c.linux.resources = { devices: [{ allow: true, type: 'p' }] }),
    pointer: '/linux/resources/devices/0/type', message: 'must be one of "a", "b", "c", got "p"' },
  { name: 'device rule access', mutate: (c) => (c.linux.resources = { devices: [{ allow: true, access: 'xyz' }] }),
    pointer: '/linux/resources/devices/0/access', message: 'must be a combination of "r", "w" and "m", got "xyz"' },
  { name: 'weightDevice without weights', mutate: (c) => (c.linux.resources = { blockIO: { weightDevice: [{ major: 8, minor: 0 }] } }),
    pointer: '/linux/resources/blockIO/weightDevice/0', message: 'must specify at least one of "weight" or "leafWeight"' },
  { name: 'rdma without limits', mutate: (c) => (c.linux.resources = { rdma: { mlx5_1: {} } }),
    pointer: '/linux/resources/rdma/mlx5_1', message: 'must specify at least one of "hcaHandles" or "hcaObjects"' },
  { name: 'cpu burst > quota', mutate: (c) => (c.linux.resources = { cpu: { quota: 1000, burst: 2000 } }),
    pointer: '/linux/resources/cpu/burst', message: 'must be <= quota (1000), got 2000' },
  { name: 'memory swap < limit', mutate: (c) => (c.linux.resources = { memory: { limit: 2000, swap: 1000 } }),
    pointer: '/linux/resources/memory/swap', message: 'is the memory+swap limit and must be >= limit (2000) or -1, got 1000' },
  { name: 'swappiness > 100', mutate: (c) => (c.linux.resources = { memory: { swappiness: 101 } }),
    pointer: '/linux/resources/memory/swappiness', message: 'must be between 0 and 100, got 101' },
  { name: 'unified key escaping the cgroup', mutate: (c) => (c.linux.resources = { unified: { '../cgroup.procs': '1' } }),
    pointer: '/linux/resources/unified/..~1cgroup.procs', message: 'must be a cgroup file name such as "memory.max", got "../cgroup.procs"' },
  // seccomp
  { name: 'listenerMetadata without listenerPath', mutate: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' }),
    pointer: '/linux/seccomp/listenerMetadata', message: 'must not be set without listenerPath' },
  { name: 'defaultErrnoRet with ALLOW', mutate: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 }),
    pointer: '/linux/seccomp/defaultErrnoRet', message: 'is only supported with "SCMP_ACT_ERRNO" or "SCMP_ACT_TRACE", not "SCMP_ACT_ALLOW"' },
  { name: 'errnoRet with KILL', mutate: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] }),
    pointer: '/linux/seccomp/syscalls/0/errnoRet', message: 'is only supported with "SCMP_ACT_ERRNO" or "SCMP_ACT_TRACE", not "SCMP_ACT_KILL"' },
  { name: 'NOTIFY without listenerPath', mutate: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }),
    pointer: '/linux/seccomp', message: 'missing required property "listenerPath" (needed by SCMP_ACT_NOTIFY)' },
  { name: 'empty syscall name', mutate: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', ''], action: 'SCMP_ACT_ERRNO' }] }),
    pointer: '/linux/seccomp/syscalls/0/names/1', message: 'must not be empty' },
  // paths and the rest of linux
  { name: 'maskedPaths relative', mutate: (c) => (c.linux.maskedPaths = ['/proc/kcore', 'proc/keys']), pointer: '/linux/maskedPaths/1',
    message: 'must be an absolute path, got "proc/keys"' },
  { name: 'readonlyPaths relative', mutate: (c) => (c.linux.readonlyPaths = ['proc/sys']), pointer: '/linux/readonlyPaths/0',
    message: 'must be an absolute path, got "proc/sys"' },
  { name: 'personality flags', mutate: (c) => (c.linux.personality = { domain: 'LINUX', flags: ['X'] }), pointer: '/linux/personality/flags',
    message: 'no personality flags are supported, got ["X"]' },
  { name: 'personality domain missing', mutate: (c) => (c.linux.personality = {}), pointer: '/linux/personality',
    message: 'missing required property "domain"' },
  { name: 'intelRdt closID traversal', mutate: (c) => (c.linux.intelRdt = { closID: '../x' }), pointer: '/linux/intelRdt/closID',
    message: 'must be "/" or a single directory name, got "../x"' },
  { name: 'intelRdt schemata newline', mutate: (c) => (c.linux.intelRdt = { schemata: ['L3:0=f\nMB:0=20'] }), pointer: '/linux/intelRdt/schemata/0',
    message: 'must not contain newlines' },
  { name: 'memoryPolicy mode missing', mutate: (c) => (c.linux.memoryPolicy = { nodes: '0' }), pointer: '/linux/memoryPolicy',
    message: 'missing required property "mode"' },
  { name: 'memoryPolicy BIND without nodes', mutate: (c) => (c.linux.memoryPolicy = { mode: 'MPOL_BIND' }), pointer: '/linux/memoryPolicy',
    message: 'missing required property "nodes" (mode MPOL_BIND needs at least one node)' },
  { name: 'memoryPolicy LOCAL with nodes', mutate: (c) => (c.linux.memoryPolicy = { mode: 'MPOL_LOCAL', nodes: '0-1' }),
    pointer: '/linux/memoryPolicy/nodes', message: 'must be empty with mode MPOL_LOCAL' },
  { name: 'memoryPolicy bad node list', mutate: (c) => (c.linux.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0-' }),
    pointer: '/linux/memoryPolicy/nodes', message: 'must be a node list such as "0-3,7", got "0-"' },
  { name: 'netDevices without network namespace', mutate: (c) => ((c.linux.netDevices = { eth1: {} }), c.linux.namespaces.pop()),
    pointer: '/linux/netDevices', message: 'moving network devices needs a network namespace in /linux/namespaces' },
  { name: 'netDevices bad name', mutate: (c) => (c.linux.netDevices = { eth1: { name: 'a/b' } }), pointer: '/linux/netDevices/eth1/name',
    message: 'invalid interface name "a/b"' },
];

t.test('the base config is valid', async (t) => {
  const r = check(() => {});
  t.same(r.errors.map((e) => e.message), []);
  t.same(r.warnings.map((e) => e.message), []);
  t.ok(r.spec);
});

fs.writeFileSync(path.join(bundle, 'config.json'), '{}'); // for the "rootfs not a directory" case

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const r = check(c.mutate, c.opts);
    t.equal(r.spec, undefined, 'no spec is returned');
    t.same(r.errors.map((e) => [e.pointer, detailOf(e)]), [[c.pointer, c.message]]);
    t.equal(r.errors[0]?.message, `config.json ${c.pointer}: ${c.message}`);
  });
}

t.test('valid variants pass', async (t) => {
  const ok = (name: string, mutate: (c: any) => void, opts?: SemanticOptions) => {
    const r = check(mutate, opts);
    t.same(r.errors.map((e) => e.message), [], name);
  };
  ok('pre-release 1.x versions', (c) => (c.ociVersion = '1.0.2-dev'));
  ok('1.1.0', (c) => (c.ociVersion = '1.1.0'));
  ok('1.3.1+build', (c) => (c.ociVersion = '1.3.1+build.5'));
  ok('absolute rootfs', (c) => (c.root.path = path.join(bundle, 'rootfs')));
  ok('no rootfs check', (c) => (c.root.path = 'missing'), { checkRootfs: false });
  ok('no process when not required', (c) => delete c.process, { requireProcess: false });
  ok('new user namespace with mappings', (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  ok('joined user namespace without mappings', (c) => c.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' }));
  ok('hostname with a joined uts namespace', (c) => (c.linux.namespaces[2] = { type: 'uts', path: '/proc/1/ns/uts' }));
  ok('empty namespace path means a new namespace', (c) => (c.linux.namespaces[0] = { type: 'pid', path: '' }));
  ok('time namespace with offsets', (c) => {
    c.linux.namespaces.push({ type: 'time' });
    c.linux.timeOffsets = { monotonic: { secs: 10, nanosecs: 5 }, boottime: { secs: -3 } };
  });
  ok('namespaced sysctls', (c) => (c.linux.sysctl = {
    'net.ipv4.ip_unprivileged_port_start': '0', 'net/ipv4/conf/eth0.100/rp_filter': '1',
    'kernel.shmmax': '1', 'fs.mqueue.msg_max': '10', 'kernel.domainname': 'x',
  }));
  ok('all rlimits known', (c) => (c.process.rlimits = Object.keys(RLIMITS).map((type) => ({ type, soft: 1, hard: 2 }))));
  ok('idmap with mount mappings', (c) => c.mounts.push({ destination: '/d', source: '/d', options: ['bind', 'idmap'],
    uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] }));
  ok('idmap with a user namespace', (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.mounts.push({ destination: '/d', source: '/d', options: ['rbind', 'ridmap'] });
  });
  ok('fifo device without numbers', (c) => (c.linux.devices = [{ type: 'p', path: '/dev/fifo' }]));
  ok('seccomp notify with listener', (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38,
    listenerPath: '/run/agent.sock', listenerMetadata: 'm', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }));
  ok('docker-style empty hooks object', (c) => (c.hooks = {}));
  ok('systemd cgroupsPath', (c) => (c.linux.cgroupsPath = 'system.slice:runts:abc'));
  ok('intelRdt default CLOS', (c) => (c.linux.intelRdt = { closID: '/' }));
  ok('realtime scheduler', (c) => (c.process.scheduler = { policy: 'SCHED_RR', priority: 10 }));
  ok('unknown capability as a warning', (c) => (c.process.capabilities = { bounding: ['CAP_FUTURE'] }), { unknownCapabilities: 'warn' });
});

t.test('unknownCapabilities "warn" turns the error into a warning', async (t) => {
  const r = check((c) => (c.process.capabilities = { ambient: ['CAP_FUTURE'] }), { unknownCapabilities: 'warn' });
  t.same(r.warnings.map((w) => w.message), ['config.json /process/capabilities/ambient/0: unknown capability "CAP_FUTURE"']);
  t.ok(r.spec);
});

t.test('device rule access letters other than rwm are ignored with a warning (runc ignores them)', async (t) => {
  const r = check((c) => (c.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'rwa' }] }));
  t.same(r.errors, []);
  t.same(r.warnings.map((w) => w.pointer), ['/linux/resources/devices/1/access']);
});

t.test('relative mount destinations are deprecated, not invalid', async (t) => {
  const r = check((c) => (c.mounts[0].destination = 'proc'));
  t.same(r.errors, []);
  t.same(r.warnings.map((w) => [w.pointer, detailOf(w)]), [
    ['/mounts/0/destination', 'relative destination "proc" is deprecated; it is taken relative to "/"'],
  ]);
});

t.test('mount mappings without idmap option warn', async (t) => {
  const r = check((c) => c.mounts.push({ destination: '/d', source: '/d', options: ['bind'],
    uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] }));
  t.same(r.errors, []);
  t.same(r.warnings.map((w) => w.pointer), ['/mounts/1/options']);
});

t.test('several semantic errors are all reported', async (t) => {
  const r = check((c) => {
    c.process.cwd = 'x';
    c.linux.maskedPaths = ['y'];
  });
  t.same(r.errors.map((e) => e.pointer), ['/process/cwd', '/linux/maskedPaths/0']);
});

t.test('rlimit table', async (t) => {
  t.equal(Object.keys(RLIMITS).length, 16);
  t.equal(rlimitNumber('RLIMIT_NOFILE'), 7);
  t.equal(rlimitNumber('RLIMIT_RTTIME'), 15);
  t.equal(rlimitNumber('RLIMIT_BOGUS'), undefined);
  t.equal(rlimitNumber('toString'), undefined);
});

t.test('sysctl namespaces', async (t) => {
  t.equal(sysctlNamespace('net.core.somaxconn'), 'network');
  t.equal(sysctlNamespace('net/ipv4/ip_forward'), 'network');
  t.equal(sysctlNamespace('kernel.msgmax'), 'ipc');
  t.equal(sysctlNamespace('fs.mqueue.queues_max'), 'ipc');
  t.equal(sysctlNamespace('kernel.hostname'), 'uts');
  t.equal(sysctlNamespace('kernel.pid_max'), undefined);
});
