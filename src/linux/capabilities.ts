/**
 * Capabilities: resolve the five sets of process.capabilities to numbers
 * (pure), and apply them in the init stage in runc's order:
 *
 *   keepcaps on → drop the bounding set → setgroups/setresgid/setresuid →
 *   keepcaps off → capset(effective, permitted, inheritable) → ambient
 *
 * An absent process.capabilities means no capabilities at all (as runc).
 *
 * Capabilities the init stage cannot have (config.md "Linux process": "If
 * the runtime cannot grant a capability, it SHOULD log a warning and not
 * fail") are those outside its own bounding set: without a user namespace
 * the init inherits the CLI's bounding set, so a machine whose root lacks
 * CAP_SYS_RESOURCE cannot give it to a container (capset would fail with
 * EPERM). The plan, made by the CLI, drops them from every set with one
 * warning on the CLI's stderr/log. A new or joined user namespace starts with
 * a full bounding set, so there every capability the kernel knows is
 * grantable (in that namespace). The plan (src/plan/process.ts) decides
 * which, from the host facts (src/plan/host-facts.ts).
 */
import * as fs from 'node:fs';
import { RuntsError, SyscallError } from '../common/errors.js';
import type { Capabilities } from '../spec/types.js';
import { capabilityNumber, CAPABILITIES } from './capability-names.js';
import * as libc from './libc.js';
import { EPERM, PR, SYS } from './abi.js';

export interface CapSets { bounding: number[]; effective: number[]; permitted: number[]; inheritable: number[]; ambient: number[] }

const SETS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;

/** The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap). */
export function lastCap(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    return CAPABILITIES.length - 1;
  }
}

/** The capability numbers in a /proc/PID/status hex mask (CapBnd, CapPrm, ...). */
export function capsOfMask(hex: string): number[] {
  const m = BigInt(`0x${hex}`);
  const out: number[] = [];
  for (let c = 0; c < 64; c++) if (m & (1n << BigInt(c))) out.push(c);
  return out;
}

/** A capability set of this process from /proc/self/status, or undefined if it cannot be read. */
export function ownCapabilitySet(field: 'CapBnd' | 'CapPrm' | 'CapEff' | 'CapInh' | 'CapAmb', status = '/proc/self/status'): number[] | undefined {
  try {
    const m = new RegExp(`^${field}:\\s*([0-9a-f]+)\\s*$`, 'm').exec(fs.readFileSync(status, 'utf8'));
    return m ? capsOfMask(m[1]!) : undefined;
  } catch {
    return undefined;
  }
}

export interface ResolveOptions {
  /**
   * The capabilities the init stage can grant (src/plan/process.ts: the
   * CLI's bounding set, HostFacts.boundingSet, unless there is a user namespace);
   * requested ones outside it are dropped from every set with one warning.
   * Absent: no such restriction.
   */
  grantable?: readonly number[];
}

/**
 * Names → numbers. Unknown names were rejected by validation; names this
 * kernel does not know are skipped and reported through `warn`, and so are
 * (with one warning naming all of them) capabilities outside `opts.grantable`.
 */
export function resolveCapabilities(caps: Capabilities | undefined, last: number, warn: (msg: string) => void, opts: ResolveOptions = {}): CapSets {
  const out: CapSets = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
  const notGrantable: number[] = [];
  for (const set of SETS) {
    for (const name of caps?.[set] ?? []) {
      const n = capabilityNumber(name);
      if (n === undefined) continue;
      if (n > last) {
        warn(`capability ${name} is not known to this kernel (cap_last_cap=${last}): ignored in the ${set} set`);
        continue;
      }
      if (opts.grantable && !opts.grantable.includes(n)) {
        if (!notGrantable.includes(n)) notGrantable.push(n);
        continue;
      }
      if (!out[set].includes(n)) out[set].push(n);
    }
  }
  if (notGrantable.length > 0) {
    const names = notGrantable.sort((a, b) => a - b).map((c) => CAPABILITIES[c] ?? `capability ${c}`);
    warn(names.length === 1
      ? `capability ${names[0]} is not in runts's bounding set: not granted`
      : `capabilities ${names.join(', ')} are not in runts's bounding set: not granted`);
  }
  // The kernel raises an ambient capability only if it is both permitted and
  // inheritable (PR_CAP_AMBIENT_RAISE fails with EPERM otherwise). runc's own
  // default spec lists ambient capabilities with no inheritable set, and runc
  // ignores the failed raise; do the same, so that spec runs identically.
  out.ambient = out.ambient.filter((c) => out.inheritable.includes(c) && out.permitted.includes(c));
  return out;
}

function mask(caps: number[]): [number, number] {
  let lo = 0, hi = 0;
  for (const c of caps) {
    if (c < 32) lo |= 1 << c;
    else hi |= 1 << (c - 32);
  }
  return [lo >>> 0, hi >>> 0];
}

/** Before the uid switch: keep permitted caps across it, and shrink the bounding set. */
export function dropBounding(sets: CapSets, last: number): void {
  libc.prctl(PR.SET_KEEPCAPS, 1, 0, 0, 0, 'prctl(PR_SET_KEEPCAPS)');
  for (let c = 0; c <= last; c++) {
    if (!sets.bounding.includes(c)) libc.prctl(PR.CAPBSET_DROP, c, 0, 0, 0, `prctl(PR_CAPBSET_DROP, ${CAPABILITIES[c] ?? c})`);
  }
}

/** After the uid switch: set effective/permitted/inheritable, then ambient. */
export function applyCapSets(sets: CapSets): void {
  libc.prctl(PR.SET_KEEPCAPS, 0, 0, 0, 0, 'prctl(PR_SET_KEEPCAPS)');
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x20080522, 0); // _LINUX_CAPABILITY_VERSION_3
  header.writeInt32LE(0, 4);
  const data = Buffer.alloc(24);
  const [eLo, eHi] = mask(sets.effective);
  const [pLo, pHi] = mask(sets.permitted);
  const [iLo, iHi] = mask(sets.inheritable);
  data.writeUInt32LE(eLo, 0); data.writeUInt32LE(pLo, 4); data.writeUInt32LE(iLo, 8);
  data.writeUInt32LE(eHi, 12); data.writeUInt32LE(pHi, 16); data.writeUInt32LE(iHi, 20);
  try {
    libc.syscall(SYS.capset, 'capset', 'void *', header, 'void *', data);
  } catch (e) {
    throw e instanceof SyscallError && e.code === EPERM ? capsetDenied(sets, e) : e;
  }
  libc.prctl(PR.CAP_AMBIENT, 4 /* PR_CAP_AMBIENT_CLEAR_ALL */, 0, 0, 0, 'prctl(PR_CAP_AMBIENT_CLEAR_ALL)');
  for (const c of sets.ambient) {
    libc.prctl(PR.CAP_AMBIENT, 2 /* PR_CAP_AMBIENT_RAISE */, c, 0, 0, `prctl(PR_CAP_AMBIENT_RAISE, ${CAPABILITIES[c]})`);
  }
}

/**
 * capset(2) refuses a permitted/effective capability this process does not
 * have in its permitted set (and an inheritable one outside permitted ∪
 * inheritable). The plan leaves out what the bounding set lacks, so this is
 * only reached when the guess was wrong (e.g. a user namespace that did not
 * give full capabilities): name the capabilities instead of a bare EPERM.
 */
function capsetDenied(sets: CapSets, e: SyscallError): Error {
  const prm = ownCapabilitySet('CapPrm');
  const inh = ownCapabilitySet('CapInh') ?? [];
  if (!prm) return e;
  const missing = [...new Set([...sets.permitted, ...sets.effective, ...sets.inheritable.filter((c) => !inh.includes(c))])]
    .filter((c) => !prm.includes(c))
    .sort((a, b) => a - b);
  if (missing.length === 0) return e;
  const names = missing.map((c) => CAPABILITIES[c] ?? `capability ${c}`).join(', ');
  return new RuntsError(`${e.message}: ${names} not in the permitted set of the runtime's init stage`, { op: 'capset', errno: 'EPERM', cause: e });
}
