/**
 * What planning needs to know about the host, gathered in ONE place by one
 * small effectful function (gatherHostFacts) and passed to the planners as
 * plain data: the planners themselves read nothing of the system, so they are
 * pure and unit-tested without root (test/unit/plan/) with facts made up.
 *
 * A fact that costs something to learn (the LSMs need a statfs and maybe a
 * read of mountinfo) is only gathered when the config needs it: the caller
 * says which (HostFactNeeds, from needsOf*() in this folder).
 */
import { detectCgroups } from '../cgroups/detect.js';
import { lastCap, ownCapabilitySet } from '../linux/capabilities.js';
import { detectLsm, type LsmStatus } from '../linux/lsm.js';
import { hostRootlessFacts, type RootlessFacts } from '../container/rootless.js';

/** A v1 hierarchy as the container's /sys/fs/cgroup shows it (a mount point and its controllers). */
export interface CgroupHierarchy { mountpoint: string; controllers: string[] }

export interface HostFacts {
  /** Highest capability number of this kernel (/proc/sys/kernel/cap_last_cap). */
  lastCap: number;
  /**
   * The CLI's own bounding set (CapBnd of /proc/self/status): what an init
   * without a user namespace of its own inherits, so can grant. undefined
   * when it cannot be read (then nothing is left out).
   */
  boundingSet?: number[];
  /** Which LSMs are enabled; only gathered when the config names a profile or label (else undefined). */
  lsm?: LsmStatus;
  /** The host's v1 cgroup hierarchies (for the container's /sys/fs/cgroup); only gathered for create. */
  cgroupV1?: CgroupHierarchy[];
  /** The host's cgroup layout (v1, v2 or hybrid); only gathered for create. A container without a cgroup (rootless) mounts by it. */
  cgroupMode?: 'v1' | 'v2' | 'hybrid';
  /**
   * Who runs runts: effective uid and gid, whether in the initial user
   * namespace, $XDG_RUNTIME_DIR and $USER: the rootless decisions' inputs
   * (src/container/rootless.ts).
   */
  rootless: RootlessFacts;
}

export interface HostFactNeeds {
  /** A profile or label is configured: learn which LSMs are enabled. */
  lsm?: boolean;
  /** create: the cgroup hierarchies. */
  cgroups?: boolean;
}

/** The one function that reads the host for planning. */
export function gatherHostFacts(needs: HostFactNeeds = {}): HostFacts {
  return {
    lastCap: lastCap(),
    boundingSet: ownCapabilitySet('CapBnd'),
    ...(needs.lsm ? { lsm: detectLsm() } : {}),
    ...(needs.cgroups ? cgroupFacts() : {}),
    rootless: hostRootlessFacts(),
  };
}

function cgroupFacts(): Pick<HostFacts, 'cgroupV1' | 'cgroupMode'> {
  const d = detectCgroups();
  return { cgroupV1: d.v1.map((h) => ({ mountpoint: h.mountpoint, controllers: [...h.controllers] })), cgroupMode: d.mode };
}
