/**
 * Linux namespace kinds: the spec's names, the clone(2) flag, and the name
 * of the /proc/<pid>/ns entry. One table for validation, the plan, the C
 * bootstrap's arguments and `runts features`.
 */
import type { IDMapping, NamespaceType } from '../spec/types.js';
import { CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS } from './abi.js';

export interface NamespaceKind { type: NamespaceType; flag: number; proc: string }

export const NAMESPACES: readonly NamespaceKind[] = [
  { type: 'user', flag: CLONE_NEWUSER, proc: 'user' },
  { type: 'mount', flag: CLONE_NEWNS, proc: 'mnt' },
  { type: 'pid', flag: CLONE_NEWPID, proc: 'pid' },
  { type: 'network', flag: CLONE_NEWNET, proc: 'net' },
  { type: 'ipc', flag: CLONE_NEWIPC, proc: 'ipc' },
  { type: 'uts', flag: CLONE_NEWUTS, proc: 'uts' },
  { type: 'cgroup', flag: CLONE_NEWCGROUP, proc: 'cgroup' },
  { type: 'time', flag: CLONE_NEWTIME, proc: 'time' },
];

export function namespaceKind(type: string): NamespaceKind | undefined {
  return NAMESPACES.find((n) => n.type === type);
}

/** The text of /proc/<pid>/uid_map or gid_map for these mappings: "containerID hostID size" lines. */
export function idMapText(maps: readonly IDMapping[] | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}
