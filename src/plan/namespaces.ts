/**
 * linux.namespaces, read here and nowhere else: validation (src/spec/),
 * the plans of create and exec, nsboot's arguments, the mount-namespace mode
 * and the id checks all ask this module. The namespace kinds themselves
 * (clone flags, /proc/<pid>/ns names) are src/linux/namespaces.ts.
 */
import { RuntsError } from '../common/errors.js';
import { NAMESPACES } from '../linux/namespaces.js';
import type { MountNsMode } from '../linux/rootfs/plan-types.js';
import type { IDMapping, Linux, NamespaceType, Spec } from '../spec/types.js';

/** One entry of linux.namespaces as written (validation reports bad types and duplicates by index). */
export interface NamespaceEntry { index: number; type: string; path?: string }

/** The entries as written, with their index (type not checked: src/spec/semantic-linux.ts does that). */
export function namespaceEntries(linux: Linux | undefined): NamespaceEntry[] {
  return (linux?.namespaces ?? []).map((n, index) => ({ index, type: n.type, ...(n.path ? { path: n.path } : {}) }));
}

function entry(spec: Pick<Spec, 'linux'>, type: NamespaceType): { path?: string } | undefined {
  return (spec.linux?.namespaces ?? []).find((n) => n.type === type);
}

/** The container has a namespace of this type, new or joined. */
export function hasNamespace(spec: Pick<Spec, 'linux'>, type: NamespaceType): boolean {
  return entry(spec, type) !== undefined;
}

/** The container creates a namespace of this type (one without a path). */
export function hasNewNamespace(spec: Pick<Spec, 'linux'>, type: NamespaceType): boolean {
  const e = entry(spec, type);
  return e !== undefined && !e.path;
}

/** The path of a namespace the container joins, if it joins one of this type. */
export function joinedNamespace(spec: Pick<Spec, 'linux'>, type: NamespaceType): string | undefined {
  return entry(spec, type)?.path || undefined;
}

/** The mappings of the user namespace the container creates, or undefined (none, or joined by path). */
export function newUserNamespaceMappings(linux: Linux | undefined): { uid: IDMapping[]; gid: IDMapping[] } | undefined {
  if (!hasNewNamespace({ linux }, 'user')) return undefined;
  return { uid: linux?.uidMappings ?? [], gid: linux?.gidMappings ?? [] };
}

/** Which mount namespace the rootfs is set up in (src/linux/rootfs/mountns.ts says what each means). */
export type { MountNsMode };

export function mountNsMode(spec: Pick<Spec, 'linux'>): MountNsMode {
  const e = entry(spec, 'mount');
  return !e ? 'host' : e.path ? 'join' : 'new';
}

/** What nsboot does for `create`: its arguments, and what the CLI needs to know of them. */
export interface CreateNamespaces {
  /** nsboot's options (before the stage's environment). */
  nsbootArgs: string[];
  /** A new user namespace: nsboot waits for the CLI to write its id maps. */
  userns: boolean;
  /** A pid namespace, new or joined. */
  pidns: boolean;
  /** A new pid namespace: the init is pid 1 in it. */
  newPidns: boolean;
  mountns: MountNsMode;
  /** A mount namespace given by path: the CLI opens it, the init's main thread joins it. */
  mountnsPath?: string;
  /** A new cgroup namespace: unshared by the init stage once it is in its cgroups. */
  newCgroupns: boolean;
  /** A new network namespace: the init brings `lo` up. */
  newNetns: boolean;
}

/**
 * nsboot's arguments for `create` (csrc/nsboot.c): -s sync fd, -j joins, -n
 * the clone flags of the new namespaces, -u with a new user namespace, -t
 * time offsets. Unknown types were refused by validation; they are refused
 * here too, as nsboot could not be told.
 */
export function createNamespaces(spec: Spec, syncFd: number): CreateNamespaces {
  const namespaces = spec.linux?.namespaces ?? [];
  let flags = 0;
  const args: string[] = ['-s', String(syncFd)];
  let userns = false;
  for (const ns of namespaces) {
    const kind = NAMESPACES.find((k) => k.type === ns.type);
    if (!kind) throw new RuntsError(`config.json: unknown namespace type "${ns.type}"`, { pointer: '/linux/namespaces' });
    if (ns.path) {
      // the init's main thread joins a mount namespace itself: node cannot start inside it (src/linux/rootfs/mountns.ts)
      if (ns.type !== 'mount') args.push('-j', `${kind.proc}=${ns.path}`);
    } else if (ns.type !== 'cgroup') {
      // a new cgroup namespace is unshared by the init stage, once the CLI
      // has put it in its cgroups (InitPlan.unshareCgroupns)
      flags |= kind.flag;
      if (ns.type === 'user') userns = true;
    }
  }
  args.push('-n', (flags >>> 0).toString(16));
  if (userns) args.push('-u');
  // validated (src/spec/semantic.ts): only with a new time namespace
  for (const [clock, o] of Object.entries(spec.linux?.timeOffsets ?? {})) args.push('-t', `${clock}=${BigInt(o.secs ?? 0)} ${o.nanosecs ?? 0}`); // BigInt: every digit of a double beyond 2^53
  return {
    nsbootArgs: args,
    userns,
    pidns: hasNamespace(spec, 'pid'),
    newPidns: hasNewNamespace(spec, 'pid'),
    mountns: mountNsMode(spec),
    mountnsPath: joinedNamespace(spec, 'mount'),
    newCgroupns: hasNewNamespace(spec, 'cgroup'),
    newNetns: hasNewNamespace(spec, 'network'),
  };
}

/**
 * nsboot's -j arguments for `exec`: every namespace type the container has,
 * joined through its init's /proc/<pid>/ns, except the mount namespace,
 * which the exec stage joins itself (docs/protocol.md, "exec").
 */
export function execJoinArgs(spec: Pick<Spec, 'linux'>, initPid: number): string[] {
  const joins: string[] = [];
  for (const k of NAMESPACES) if (hasNamespace(spec, k.type) && k.type !== 'mount') joins.push('-j', `${k.proc}=/proc/${initPid}/ns/${k.proc}`);
  return joins;
}
