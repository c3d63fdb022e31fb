/**
 * linux.sysctl: planned on the host (pure), written by the init stage through
 * the trusted procfs handle (procfs.ts), never through the container's /proc.
 *
 * Which keys are allowed for which namespaces is decided by validation
 * (src/spec/semantic.ts sysctlNamespace/checkSysctl). The kernel picks the
 * namespace from the writer (current->nsproxy), so any procfs instance
 * writes the container's values as long as the init is inside the
 * container's namespaces, which it is from the start.
 *
 * When: after pivot_root and sethostname/setdomainname, before the masked and
 * read-only paths are applied (runc's order: hostname → sysctl → readonly/
 * masked paths). All prestart/createRuntime/createContainer hooks have run by
 * then, like with runc, and a "kernel.hostname"/"kernel.domainname" sysctl
 * wins over the hostname/domainname fields. Since the writes do not go
 * through the container's /proc, a read-only /proc/sys (runc's default
 * readonlyPaths) does not get in the way.
 */
import { ConfigError, RuntsError, SyscallError } from '../common/errors.js';
import type { Spec } from '../spec/types.js';
import type { ProcfsHandle } from './procfs.js';

export interface SysctlWrite {
  /** The key as written in config.json. */
  key: string;
  /** Path below the procfs root, e.g. "sys/net/ipv4/ip_forward". */
  path: string;
  value: string;
}

function pointer(key: string): string {
  return `/linux/sysctl/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/**
 * The procfs path of a key, as sysctl(8) does it: "net.ipv4.ip_forward" →
 * "sys/net/ipv4/ip_forward"; a key that already uses "/" keeps its dots
 * ("net/ipv4/conf/eth0.100/forwarding", for interface names with dots).
 */
export function sysctlPath(key: string): string {
  const rel = key.includes('/') ? key : key.replace(/\./g, '/');
  const parts = rel.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..') || key.includes('\0')) {
    throw new ConfigError(pointer(key), `invalid sysctl name ${JSON.stringify(key)}`);
  }
  return `sys/${rel}`;
}

/** config.json linux.sysctl → the writes, in config order. */
export function planSysctls(spec: Spec): SysctlWrite[] {
  return Object.entries(spec.linux?.sysctl ?? {}).map(([key, value]) => {
    if (typeof value !== 'string') throw new ConfigError(pointer(key), `sysctl value must be a string, got ${JSON.stringify(value)}`);
    return { key, path: sysctlPath(key), value };
  });
}

/** Write every sysctl; the first failure names the key, the file and the errno. */
export function applySysctls(writes: SysctlWrite[], procfs: ProcfsHandle): void {
  for (const w of writes) {
    try {
      procfs.writeFile(w.path, w.value);
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      throw new RuntsError(`sysctl ${JSON.stringify(w.key)} = ${JSON.stringify(w.value)}: ${detail}`, {
        op: 'sysctl',
        path: `/proc/${w.path}`,
        pointer: pointer(w.key),
        errno: e instanceof SyscallError ? e.errno : undefined,
        cause: e,
      });
    }
  }
}
