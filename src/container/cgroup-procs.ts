/** The processes in a container's cgroup, from its record. */
import { cgroupManagerFromRecord } from '../cgroups/manager.js';
import type { ContainerRecord } from '../state/store.js';

export function cgroupProcesses(rec: ContainerRecord): number[] {
  if (!rec.cgroup) return [];
  try {
    return cgroupManagerFromRecord(rec.cgroup).pids();
  } catch {
    return [];
  }
}
