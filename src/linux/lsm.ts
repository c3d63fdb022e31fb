/**
 * Linux security modules: process.apparmorProfile, process.selinuxLabel and
 * linux.mountLabel.
 *
 * Planning (host side): a configured profile or label needs its LSM; when the
 * LSM is not enabled on this host the container is refused with an error
 * naming the LSM and the JSON pointer (never silently ignored), except
 * linux.mountLabel, which is ignored with a warning as runc and crun do. Detection:
 *   AppArmor: /sys/module/apparmor/parameters/enabled starts with "Y";
 *   SELinux:  selinuxfs mounted at /sys/fs/selinux (statfs magic), or listed
 *             in /proc/self/mountinfo.
 *
 * Applying (init stage, after the startContainer hooks, before seccomp and the
 * credential switch): the labels only take effect at execve, so they are
 * written as the last thing before the filter goes on:
 *   AppArmor: "exec <profile>" → /proc/thread-self/attr/apparmor/exec
 *             (kernels with LSM stacking), else /proc/thread-self/attr/exec;
 *   SELinux:  "<label>" → /proc/thread-self/attr/exec and attr/keycreate.
 * Both through the trusted procfs handle (CVE-2019-16884, CVE-2025-52881).
 * thread-self, not self: the attributes are per thread, and execve happens
 * on this (node's main) thread.
 *
 * mountLabel becomes a `context=<label>` option of the filesystems the
 * container mounts (not on proc, sysfs, mqueue, cgroup, nor on bind mounts:
 * runc's rules), added by the rootfs planner (src/plan/rootfs.ts).
 */
import * as fs from 'node:fs';
import { ConfigError, RuntsError, SyscallError } from '../common/errors.js';
import type { Process, Spec } from '../spec/types.js';
import type { ProcfsHandle } from './procfs.js';
import { ENOENT } from './abi.js';

export const SELINUX_MAGIC = 0xf97cff8c;
export const APPARMOR_ENABLED_FILE = '/sys/module/apparmor/parameters/enabled';
export const SELINUX_MOUNT = '/sys/fs/selinux';

export interface LsmStatus { apparmor: boolean; selinux: boolean }

export function apparmorEnabled(): boolean {
  try {
    return fs.readFileSync(APPARMOR_ENABLED_FILE, 'utf8').startsWith('Y');
  } catch {
    return false;
  }
}

export function selinuxEnabled(): boolean {
  try {
    if (fs.statfsSync(SELINUX_MOUNT).type === SELINUX_MAGIC) return true;
  } catch { /* not mounted there */ }
  try {
    return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => / - selinuxfs /.test(l));
  } catch {
    return false;
  }
}

export function detectLsm(): LsmStatus {
  return { apparmor: apparmorEnabled(), selinux: selinuxEnabled() };
}

export interface LsmProcessPlan {
  apparmorProfile?: string;
  selinuxLabel?: string;
}

function missing(lsm: 'AppArmor' | 'SELinux', how: string): string {
  return `${lsm} is not enabled on this host (${how})`;
}

const NO_APPARMOR = missing('AppArmor', `${APPARMOR_ENABLED_FILE} is missing or not "Y"`);
const NO_SELINUX = missing('SELinux', `no selinuxfs at ${SELINUX_MOUNT}`);

function checkText(pointer: string, v: string): void {
  if (v.includes('\0') || v.includes('\n')) throw new ConfigError(pointer, 'must not contain NUL or newline characters');
}

/**
 * process.apparmorProfile / process.selinuxLabel → what to write, or a
 * ConfigError when the LSM is missing. An empty string means "not set" (runc).
 * `status` is called only when a profile or label is configured.
 */
export function planProcessLsm(p: Process | undefined, status: () => LsmStatus, base = '/process'): LsmProcessPlan {
  const out: LsmProcessPlan = {};
  const profile = p?.apparmorProfile;
  const label = p?.selinuxLabel;
  if (!profile && !label) return out;
  const st = status();
  if (profile) {
    const at = `${base}/apparmorProfile`;
    if (!st.apparmor) throw new ConfigError(at, `${NO_APPARMOR}: cannot apply the AppArmor profile ${JSON.stringify(profile)}`);
    checkText(at, profile);
    out.apparmorProfile = profile;
  }
  if (label) {
    const at = `${base}/selinuxLabel`;
    if (!st.selinux) throw new ConfigError(at, `${NO_SELINUX}: cannot apply the SELinux label ${JSON.stringify(label)}`);
    checkText(at, label);
    out.selinuxLabel = label;
  }
  return out;
}

/**
 * linux.mountLabel → the label. Without SELinux it is ignored with a
 * warning: runc and crun mount without it there (and the runtime-tools
 * suite expects a container with a mount label to start), unlike a process
 * label, which they refuse as runts does.
 */
export function planMountLabel(spec: Spec, status: () => LsmStatus, warn: (msg: string) => void = () => {}): string | undefined {
  const label = spec.linux?.mountLabel;
  if (!label) return undefined;
  checkText('/linux/mountLabel', label);
  if (!status().selinux) {
    warn(`/linux/mountLabel: ${NO_SELINUX}: the mount label ${JSON.stringify(label)} is ignored (as runc and crun do)`);
    return undefined;
  }
  return label;
}

export interface LsmWrite {
  lsm: 'apparmor' | 'selinux';
  /** Path below the procfs root. */
  path: string;
  /** Tried when `path` does not exist (ENOENT): kernels without per-LSM attr directories. */
  fallback?: string;
  content: string;
  pointer: string;
}

/** The attr writes for a process plan (pure): path + content, in order. */
export function lsmWrites(p: LsmProcessPlan, base = '/process'): LsmWrite[] {
  const out: LsmWrite[] = [];
  if (p.apparmorProfile) {
    out.push({
      lsm: 'apparmor',
      path: 'thread-self/attr/apparmor/exec',
      fallback: 'thread-self/attr/exec',
      content: `exec ${p.apparmorProfile}`,
      pointer: `${base}/apparmorProfile`,
    });
  }
  if (p.selinuxLabel) {
    for (const attr of ['exec', 'keycreate']) {
      out.push({ lsm: 'selinux', path: `thread-self/attr/${attr}`, content: p.selinuxLabel, pointer: `${base}/selinuxLabel` });
    }
  }
  return out;
}

/** Perform the writes through the trusted procfs handle. */
export function applyLsmWrites(writes: LsmWrite[], procfs: ProcfsHandle): void {
  for (const w of writes) {
    try {
      try {
        procfs.writeFile(w.path, w.content);
      } catch (e) {
        if (!(w.fallback && e instanceof SyscallError && e.code === ENOENT)) throw e;
        procfs.writeFile(w.fallback, w.content);
      }
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      throw new RuntsError(`${w.lsm === 'apparmor' ? 'AppArmor' : 'SELinux'}: cannot set ${JSON.stringify(w.content)}: ${detail}`, {
        op: 'write', path: `/proc/${w.path}`, pointer: w.pointer, errno: e instanceof SyscallError ? e.errno : undefined, cause: e,
      });
    }
  }
}
