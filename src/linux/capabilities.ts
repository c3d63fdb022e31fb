/**
 * Capabilities: resolve the five sets of process.capabilities to numbers
 * (pure), and apply them in the init stage in runc's order:
 *
 *   keepcaps on → drop the bounding set → setgroups/setresgid/setresuid →
 *   keepcaps off → capset(effective, permitted, inheritable) → ambient
 *
 * An absent process.capabilities means no capabilities at all (as runc).
 */
import * as fs from 'node:fs';
import type { Capabilities } from '../spec/types.js';
import { capabilityNumber, CAPABILITIES } from './capability-names.js';
import * as libc from './libc.js';
import { PR, SYS } from './libc.js';

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

/**
 * Names → numbers. Unknown names were rejected by validation; names this
 * kernel does not know are skipped and reported through `warn`.
 */
export function resolveCapabilities(caps: Capabilities | undefined, last: number, warn: (msg: string) => void): CapSets {
  const out: CapSets = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
  for (const set of SETS) {
    for (const name of caps?.[set] ?? []) {
      const n = capabilityNumber(name);
      if (n === undefined) continue;
      if (n > last) {
        warn(`capability ${name} is not known to this kernel (cap_last_cap=${last}): ignored in the ${set} set`);
        continue;
      }
      if (!out[set].includes(n)) out[set].push(n);
    }
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
  libc.syscall(SYS.capset, 'capset', 'void *', header, 'void *', data);
  libc.prctl(PR.CAP_AMBIENT, 4 /* PR_CAP_AMBIENT_CLEAR_ALL */, 0, 0, 0, 'prctl(PR_CAP_AMBIENT_CLEAR_ALL)');
  for (const c of sets.ambient) {
    libc.prctl(PR.CAP_AMBIENT, 2 /* PR_CAP_AMBIENT_RAISE */, c, 0, 0, `prctl(PR_CAP_AMBIENT_RAISE, ${CAPABILITIES[c]})`);
  }
}
