/**
 * Linux namespace kinds: the spec's names, the clone(2) flag, and the name
 * of the /proc/<pid>/ns entry. One table for validation, the plan, the C
 * bootstrap's arguments and `runts features`.
 */
import type { IDMapping, NamespaceType } from '../spec/types.js';

export interface NamespaceKind { type: NamespaceType; flag: number; proc: string }

export const NAMESPACES: readonly NamespaceKind[] = [
  { type: 'user', flag: 0x10000000, proc: 'user' },
  { type: 'mount', flag: 0x00020000, proc: 'mnt' },
  { type: 'pid', flag: 0x20000000, proc: 'pid' },
  { type: 'network', flag: 0x40000000, proc: 'net' },
  { type: 'ipc', flag: 0x08000000, proc: 'ipc' },
  { type: 'uts', flag: 0x04000000, proc: 'uts' },
  { type: 'cgroup', flag: 0x02000000, proc: 'cgroup' },
  { type: 'time', flag: 0x00000080, proc: 'time' },
];

export function namespaceKind(type: string): NamespaceKind | undefined {
  return NAMESPACES.find((n) => n.type === type);
}

/** The text of /proc/<pid>/uid_map or gid_map for these mappings: "containerID hostID size" lines. */
export function idMapText(maps: readonly IDMapping[] | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}
