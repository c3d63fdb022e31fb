/**
 * The C type of every integer field of a Linux config.json, as the v1.3.0
 * schemas declare it (defs.json int8..uint64), so that values are checked
 * against the type exactly. ajv compares doubles: 9223372036854775808 (2^63)
 * and 9223372036854775807 are the same double, so the schema's int64
 * maximum lets 2^63 through; here the literal's digits are compared as a bigint.
 *
 * Patterns: `#` stands for an array index, `*` for a key of a map object.
 * test/spec/hostile-input.test.ts ("CTYPES covers every C-typed integer of the
 * schema") checks this table against schemas/ (every integer
 * field of the Linux schema is here, with the same type).
 */

export type CType = 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64';

export const CTYPE_RANGE: Record<CType, readonly [bigint, bigint]> = {
  int8: [-(2n ** 7n), 2n ** 7n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint8: [0n, 2n ** 8n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const BLKIO_DEVICE = { major: 'int64', minor: 'int64' } as const;
const THROTTLE = { ...BLKIO_DEVICE, rate: 'uint64' } as const;
const MAPPING = { containerID: 'uint32', hostID: 'uint32', size: 'uint32' } as const;

function under(prefix: string, fields: Record<string, CType>): [string, CType][] {
  return Object.entries(fields).map(([k, t]) => [`${prefix}/${k}`, t]);
}

/** Pattern → C type. */
export const CTYPES: ReadonlyMap<string, CType> = new Map<string, CType>([
  ...under('/process/user', { uid: 'uint32', gid: 'uint32', umask: 'uint32' }),
  ['/process/user/additionalGids/#', 'uint32'],
  ...under('/process/consoleSize', { height: 'uint64', width: 'uint64' }),
  ...under('/process/rlimits/#', { soft: 'uint64', hard: 'uint64' }),
  ...under('/process/scheduler', { nice: 'int32', priority: 'int32', runtime: 'uint64', deadline: 'uint64', period: 'uint64' }),
  ['/process/ioPriority/priority', 'int32'],
  // oomScoreAdj is a plain "integer" in the schema; it is an int in the kernel
  ['/process/oomScoreAdj', 'int32'],
  ...under('/mounts/#/uidMappings/#', MAPPING),
  ...under('/mounts/#/gidMappings/#', MAPPING),
  ...under('/linux/uidMappings/#', MAPPING),
  ...under('/linux/gidMappings/#', MAPPING),
  // fileMode (FileMode, 0..511 in the schema) is handled by engine-deviations.ts
  ...under('/linux/devices/#', { major: 'int64', minor: 'int64', uid: 'uint32', gid: 'uint32' }),
  ...under('/linux/resources/devices/#', BLKIO_DEVICE),
  ...under('/linux/resources/memory', { limit: 'int64', reservation: 'int64', swap: 'int64', kernel: 'int64', kernelTCP: 'int64', swappiness: 'uint64' }),
  ...under('/linux/resources/cpu', {
    shares: 'uint64', quota: 'int64', burst: 'uint64', period: 'uint64', realtimeRuntime: 'int64', realtimePeriod: 'uint64', idle: 'int64',
  }),
  ['/linux/resources/pids/limit', 'int64'],
  ...under('/linux/resources/blockIO', { weight: 'uint16', leafWeight: 'uint16' }),
  ...under('/linux/resources/blockIO/weightDevice/#', { ...BLKIO_DEVICE, weight: 'uint16', leafWeight: 'uint16' }),
  ...under('/linux/resources/blockIO/throttleReadBpsDevice/#', THROTTLE),
  ...under('/linux/resources/blockIO/throttleWriteBpsDevice/#', THROTTLE),
  ...under('/linux/resources/blockIO/throttleReadIOPSDevice/#', THROTTLE),
  ...under('/linux/resources/blockIO/throttleWriteIOPSDevice/#', THROTTLE),
  ['/linux/resources/hugepageLimits/#/limit', 'uint64'],
  ['/linux/resources/network/classID', 'uint32'],
  ['/linux/resources/network/priorities/#/priority', 'uint32'],
  ...under('/linux/resources/rdma/*', { hcaHandles: 'uint32', hcaObjects: 'uint32' }),
  ...under('/linux/seccomp', { defaultErrnoRet: 'uint32' }),
  ['/linux/seccomp/syscalls/#/errnoRet', 'uint32'],
  ...under('/linux/seccomp/syscalls/#/args/#', { index: 'uint32', value: 'uint64', valueTwo: 'uint64' }),
  ...under('/linux/timeOffsets/*', { secs: 'int64', nanosecs: 'uint32' }),
]);

/** Objects whose keys are names chosen by the config (their members match `*`). */
export const MAP_OBJECTS: ReadonlySet<string> = new Set([
  '/annotations', '/linux/sysctl', '/linux/resources/rdma', '/linux/resources/unified', '/linux/netDevices', '/linux/timeOffsets', '/hooks',
]);

/**
 * uint64 fields where the type's maximum, (uint64)-1, has a meaning the
 * writers keep although a double reads it as 2^64: RLIM_INFINITY
 * (src/plan/process.ts rlimitValue) and Docker's "unset" swappiness
 * (engine-deviations.ts).
 */
const MAX_MEANS_UNLIMITED: ReadonlySet<string> = new Set(['/process/rlimits/#/soft', '/process/rlimits/#/hard', '/linux/resources/memory/swappiness']);

/**
 * runts keeps config numbers as doubles: exact up to 2^53, beyond that only
 * multiples of powers of two. A warning for an integer that reaches the
 * kernel as another one (runc keeps it exact), except where the maximum
 * means "unlimited" (MAX_MEANS_UNLIMITED). Not refused: the spec's own
 * example config has such a value (hugepageLimits 9223372036854772000).
 */
export function inexactWarning(type: CType, literal: string, pattern = ''): string | undefined {
  if (!/^-?\d+$/.test(literal)) return undefined;
  const v = BigInt(literal);
  const nearest = BigInt(Number(literal));
  if (nearest === v || (MAX_MEANS_UNLIMITED.has(pattern) && v === CTYPE_RANGE[type][1])) return undefined;
  return `${literal} is beyond 2^53 and not a multiple of a power of two: runts uses ${nearest}`;
}

/** An error message if the integer literal (JSON number text) is outside its C type, else undefined. */
export function ctypeProblem(type: CType, literal: string): string | undefined {
  let v: bigint;
  if (/^-?\d+$/.test(literal)) v = BigInt(literal);
  else {
    const n = Number(literal);
    if (!Number.isFinite(n) || !Number.isInteger(n)) return undefined; // the schema reports "must be integer"
    v = BigInt(n);
  }
  const [min, max] = CTYPE_RANGE[type];
  if (v >= min && v <= max) return undefined;
  const article = type.startsWith('int') ? 'an' : 'a';
  const what = type.startsWith('u') && v < 0n ? 'must not be negative' : `must fit in ${article} ${type} (${min} to ${max})`;
  return `${what}, got ${literal}`;
}
