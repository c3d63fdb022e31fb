/**
 * Values real engines write that the v1.3.0 schemas do not allow, but that
 * runc and crun accept. Rule: an engine's config is not ours to reject when
 * every other runtime runs it. Each such value is rewritten, before the
 * schema runs, to the meaning runc gives it, and reported as a warning
 * (`runts validate` prints it; create logs it under --debug).
 *
 * - linux.devices[].fileMode with the file-type bits: podman (pkg/specgen,
 *   from os.Stat of the host device) writes st_mode, e.g. 8630 =
 *   S_IFCHR|0666, and so does `docker run --device` via its
 *   DeviceFromPath. runc ORs the type bits in for mknod anyway; runts keeps
 *   the permission bits. Type bits that contradict the device's type, or
 *   other bits (setuid, setgid, sticky), stay errors. (containerd < 1.5,
 *   Docker < 20.10.6 and CRI-O's privileged host devices wrote the same,
 *   via runc's old DeviceFromPath; containerd/containerd#5028, moby/moby#42038.)
 * - linux.resources.memory.swappiness 18446744073709551615: (uint64)-1,
 *   the "unset" that Docker daemons still take from old API clients
 *   (MemorySwappiness -1) and write as uint64. runc skips it
 *   (int64(swappiness) == -1); so does runts, instead of refusing it as > 100.
 * - process without user: runc runs the process as uid 0, gid 0 (its
 *   zero-valued User); crun too. runts writes that user in, with a warning,
 *   instead of refusing the config (the schema requires neither, config.md
 *   only the uid and gid inside a user object).
 */
import { ConfigError } from '../common/errors.js';
import { S_IFMT } from '../linux/abi.js';

const TYPE_BITS: Record<string, number> = { c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 };

type Deviation = (doc: Record<string, any>, warn: (pointer: string, message: string) => void, exact: ReadonlyMap<string, bigint>) => void;

function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const deviceFileModeWithType: Deviation = (doc, warn) => {
  const devices = isObject(doc.linux) ? doc.linux.devices : undefined;
  if (!Array.isArray(devices)) return;
  devices.forEach((d, i) => {
    if (!isObject(d) || typeof d.fileMode !== 'number' || !Number.isInteger(d.fileMode) || d.fileMode <= 0o777) return;
    const type = TYPE_BITS[d.type as string];
    const mode = d.fileMode;
    if (type === undefined || (mode & ~(S_IFMT | 0o777)) !== 0 || (mode & S_IFMT) !== type) return; // the schema reports it
    d.fileMode = mode & 0o777;
    warn(`/linux/devices/${i}/fileMode`, `${mode} (0o${mode.toString(8)}) includes the file-type bits (schema maximum 511); using the permission bits 0o${d.fileMode.toString(8)}, as runc does`);
  });
};

const swappinessMinusOne: Deviation = (doc, warn, exact) => {
  const memory = isObject(doc.linux) && isObject(doc.linux.resources) ? doc.linux.resources.memory : undefined;
  // as a double, 2^64-1 reads as 2^64 (as do its neighbours): the literal's exact value decides when known
  const literal = exact.get('/linux/resources/memory/swappiness');
  if (!isObject(memory) || memory.swappiness !== 2 ** 64 || (literal !== undefined && literal !== 2n ** 64n - 1n)) return;
  delete memory.swappiness;
  warn('/linux/resources/memory/swappiness', '18446744073709551615 is (uint64)-1, which Docker writes for "unset"; left unset, as runc does');
};

const processWithoutUser: Deviation = (doc, warn) => {
  if (!isObject(doc.process) || doc.process.user !== undefined) return;
  doc.process.user = { uid: 0, gid: 0 };
  warn('/process/user', 'missing; the process runs as uid 0, gid 0, as runc does');
};

const DEVIATIONS: Deviation[] = [deviceFileModeWithType, swappinessMinusOne, processWithoutUser];

/**
 * Rewrite the known engine deviations in a parsed config (in place); returns
 * one warning per value rewritten. `exact`: the exact values of integer
 * literals beyond 2^53 (bounds.ts), when the config's text is known.
 */
export function acceptEngineDeviations(doc: unknown, exact: ReadonlyMap<string, bigint> = new Map()): ConfigError[] {
  const warnings: ConfigError[] = [];
  if (!isObject(doc)) return warnings;
  for (const d of DEVIATIONS) d(doc, (pointer, message) => warnings.push(new ConfigError(pointer, `engine deviation from the schema: ${message}`)), exact);
  return warnings;
}
