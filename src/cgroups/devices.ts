/**
 * Device cgroup rules: validation, the default allow list, the v1 write
 * sequence and an emulation of the kernel's v1 semantics (used to build the
 * v2 eBPF program so both versions behave the same). All pure.
 */

import { RuntsError } from '../common/errors.js';
import type { DeviceCgroup } from '../spec/types.js';

/**
 * What runc appends to every container's device list
 * (libcontainer/specconv AllowedDevices): mknod of any char/block device,
 * /dev/null, random, full, tty, zero, urandom, /dev/pts/* (136:*),
 * /dev/ptmx (5:2) and /dev/net/tun (10:200, in runc 1.1 and again since
 * 1.2). runc appends these AFTER the config's own rules, so a config cannot
 * take them away; see containerDeviceRules for the whole list.
 * (/dev/console is allowed by runc through the linux.devices path when a
 * terminal is used, not through this list.)
 */
export const DEFAULT_ALLOWED_DEVICES: readonly Readonly<DeviceCgroup>[] = Object.freeze([
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
].map((d) => Object.freeze(d)));

/** The device node each DEFAULT_ALLOWED_DEVICES entry stands for ('' for the mknod rules), index for index. */
export const DEFAULT_ALLOWED_DEVICE_PATHS: readonly string[] = Object.freeze([
  '', '', '/dev/null', '/dev/random', '/dev/full', '/dev/tty', '/dev/zero', '/dev/urandom', '', '/dev/ptmx', '/dev/net/tun',
]);

/**
 * The container's whole device rule list, as runc 1.1 builds it: the
 * config's linux.resources.devices in order, then the default allow-list.
 * Devices in linux.devices are created in /dev but NOT allowed by this: the
 * rules decide (a deny-all config keeps them unusable, for the init and for
 * every exec'd process). A default entry whose node linux.devices redefines
 * (same path) is left out, as runc does: the config's device takes its place.
 */
export function containerDeviceRules(resourceDevices: readonly DeviceCgroup[] | undefined, linuxDevicePaths: readonly string[]): DeviceCgroup[] {
  const redefined = new Set(linuxDevicePaths);
  const defaults = DEFAULT_ALLOWED_DEVICES.filter((_, i) => {
    const p = DEFAULT_ALLOWED_DEVICE_PATHS[i]!;
    return p === '' || !redefined.has(p);
  });
  return [...(resourceDevices ?? []), ...defaults];
}

/** A validated rule. major/minor -1 mean "any" (the "*" of devices.allow). */
export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  major: number;
  minor: number;
  /** Subset of "rwm", in that order. */
  access: string;
}

const ACCESS_ORDER = 'rwm';

function normAccess(a: string): string {
  return [...ACCESS_ORDER].filter((c) => a.includes(c)).join('');
}

/** Validate one OCI entry (index i of linux.resources.devices). */
export function toDeviceRule(d: DeviceCgroup, i: number): DeviceRule {
  const where = `/linux/resources/devices/${i}`;
  const bad = (why: string) => new RuntsError(`config.json ${where}: ${why}`, { pointer: where });
  const type = d.type ?? 'a';
  if (type !== 'a' && type !== 'c' && type !== 'b') throw bad(`invalid device type ${JSON.stringify(type)} (expected a, c or b)`);
  const access = d.access ?? 'rwm';
  // other letters are ignored, as runc does (config validation warns about them)
  if (!/[rwm]/.test(access)) throw bad(`invalid access ${JSON.stringify(access)} (expected a non-empty combination of r, w and m)`);
  const num = (v: number | undefined, name: string): number => {
    if (v === undefined || v === -1) return -1;
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw bad(`invalid ${name} ${v}`);
    return v;
  };
  return { allow: d.allow === true, type, major: num(d.major, 'major'), minor: num(d.minor, 'minor'), access: normAccess(access) };
}

/** "c 1:3 rwm", "b *:* m" (the devices.allow/deny syntax). */
export function ruleString(r: { type: string; major: number; minor: number; access: string }): string {
  const n = (v: number) => (v < 0 ? '*' : String(v));
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

/** Type "a" with both numbers wildcard and all of rwm: resets the whole list. */
function isReset(r: DeviceRule): boolean {
  return r.type === 'a' && r.major < 0 && r.minor < 0 && r.access === 'rwm';
}

/**
 * The kernel treats any type-"a" write as "all devices" and ignores the rest
 * of the line, so a partial "a" rule (e.g. deny "a *:* w") would silently
 * become a full reset. Expand such rules into the equivalent char and block
 * rules, which the kernel does honour.
 */
function expand(r: DeviceRule): DeviceRule[] {
  if (r.type !== 'a' || isReset(r)) return [r];
  return [{ ...r, type: 'c' }, { ...r, type: 'b' }];
}

/**
 * The writes that put a v1 devices cgroup into the state the OCI list
 * describes: "a" to devices.deny first (the list is an allow-list on top of
 * deny-all, as in runc), then each entry in order ("MUST apply entries in the
 * listed order"), allow → devices.allow, deny → devices.deny. A leading
 * reset entry in the config replaces the initial deny-all.
 */
export function devicesV1Writes(devices: DeviceCgroup[]): { file: 'devices.allow' | 'devices.deny'; value: string }[] {
  const rules = devices.map(toDeviceRule).flatMap(expand);
  const out: { file: 'devices.allow' | 'devices.deny'; value: string }[] = [];
  if (!(rules[0] && isReset(rules[0]))) out.push({ file: 'devices.deny', value: 'a' });
  for (const r of rules) {
    out.push({ file: r.allow ? 'devices.allow' : 'devices.deny', value: isReset(r) ? 'a' : ruleString(r) });
  }
  return out;
}

/** The state of a v1 device cgroup: a default and the exceptions to it. */
export interface DeviceState {
  defaultAllow: boolean;
  /** Exceptions; each one has the opposite effect of the default. */
  exceptions: { type: 'c' | 'b' | 'a'; major: number; minor: number; access: string }[];
}

/**
 * Emulate the kernel's devices v1 semantics (security/device_cgroup.c) for a
 * rule list applied after deny-all:
 *  - "a" (all, rwm) resets: default = allow/deny, no exceptions;
 *  - a rule whose verdict is the opposite of the default adds (merges) access
 *    to the exception with the same type:major:minor;
 *  - a rule with the same verdict as the default removes those access bits
 *    from the exception with exactly the same type:major:minor.
 */
export function emulateDevices(devices: DeviceCgroup[]): DeviceState {
  const rules = devices.map(toDeviceRule).flatMap(expand);
  let defaultAllow = false;
  let ex = new Map<string, { type: 'c' | 'b' | 'a'; major: number; minor: number; access: string }>();
  for (const r of rules) {
    if (isReset(r)) {
      defaultAllow = r.allow;
      ex = new Map();
      continue;
    }
    const key = `${r.type} ${r.major} ${r.minor}`;
    const cur = ex.get(key);
    if (r.allow !== defaultAllow) {
      ex.set(key, { type: r.type, major: r.major, minor: r.minor, access: normAccess((cur?.access ?? '') + r.access) });
    } else if (cur) {
      const left = [...cur.access].filter((c) => !r.access.includes(c)).join('');
      if (left) cur.access = left;
      else ex.delete(key);
    }
  }
  return { defaultAllow, exceptions: [...ex.values()] };
}

/**
 * Would the kernel (v1) let a process use this device? Mirrors
 * match_exception (allow-list: an exception must cover all requested access)
 * and match_exception_partial (deny-list: any overlap denies). Pure; used by
 * tests to compare against the BPF program.
 */
export function deviceAllowed(state: DeviceState, type: 'c' | 'b', major: number, minor: number, access: string): boolean {
  for (const e of state.exceptions) {
    if (e.type !== 'a' && e.type !== type) continue;
    if (e.major >= 0 && e.major !== major) continue;
    if (e.minor >= 0 && e.minor !== minor) continue;
    if (state.defaultAllow) {
      if ([...access].some((c) => e.access.includes(c))) return false;
    } else if ([...access].every((c) => e.access.includes(c))) {
      return true;
    }
  }
  return state.defaultAllow;
}
