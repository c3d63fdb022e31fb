/** The processes in a container's cgroup, from its record (without a cgroup, a rootless container's: src/container/ns-procs.ts). */
import { cgroupManagerFromRecord } from '../cgroups/manager.js';
import type { ContainerRecord } from '../state/store.js';
import { namespaceProcesses } from './ns-procs.js';

export function cgroupProcesses(rec: ContainerRecord): number[] {
  if (!rec.cgroup) return namespaceProcesses(rec);
  try {
    return cgroupManagerFromRecord(rec.cgroup).pids();
  } catch {
    return [];
  }
}
