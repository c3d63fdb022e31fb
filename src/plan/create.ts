/**
 * What `create` decides before it touches anything, from the validated
 * config and the command line (pure): the features runts refuses, the
 * process's console, nsboot's arguments (namespaces.ts), the rootfs path,
 * the idmapped mounts' user namespaces and, for a container with its own
 * user namespace, the bind mounts the CLI makes on the host. The init plan
 * (init.ts) follows once the CLI knows the init's pid and cgroups.
 */
import * as path from 'node:path';
import { RuntsError } from '../common/errors.js';
import { idmappingKey, type MountStep } from '../linux/rootfs/plan-types.js';
import type { IDMapping, Mount, Spec } from '../spec/types.js';
import { syncFdOf } from './fds.js';
import { freezePlan } from './freeze.js';
import { createNamespaces, type CreateNamespaces } from './namespaces.js';
import { planMount } from './rootfs.js';
import { mapMethod, type MapMethod, rootlessRefusals, type RootlessFacts, withMapMethod } from '../container/rootless.js';

export interface CreateRequest {
  bundle: string;
  /** A console socket was given (--console-socket). */
  console: boolean;
  /** `run` without --console-socket: use the console only if process.terminal. */
  consoleOnlyIfTerminal?: boolean;
  /** LISTEN_FDS + --preserve-fds. */
  preserveFds?: number;
  /** Of the preserved fds, how many came from LISTEN_FDS (socket activation). */
  listenFds?: number;
  noPivot?: boolean;
}

/** An idmapping some mount needs a user namespace for (src/container/idmap-userns.ts makes it). */
export interface Idmapping { uidMappings: IDMapping[]; gidMappings: IDMapping[] }

export interface CreatePlan {
  /** Absolute host path of the rootfs. */
  rootfs: string;
  /** The console socket is used (process.terminal). */
  console: boolean;
  preservedFds: number;
  namespaces: CreateNamespaces;
  /** The distinct idmappings of the config's mounts. */
  idmaps: Idmapping[];
  /** With a new user namespace: the bind mounts whose trees the CLI makes (src/container/bind-trees.ts). */
  bindTrees: MountStep[];
  /** Who writes the new user namespace's id maps (the CLI, nsboot itself, newuidmap/newgidmap); namespaces.nsbootArgs says so. */
  idMaps: MapMethod;
}

/**
 * The config as the container runs it: with socket activation, the
 * process's environment gets LISTEN_FDS and LISTEN_PID=1 (it is stored so,
 * and `exec` inherits it, as before this plan existed).
 */
export function withListenFds(spec: Spec, listenFds: number | undefined): Spec {
  const p = spec.process;
  if (!listenFds || !p) return spec;
  return { ...spec, process: { ...p, env: [...(p.env ?? []), `LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'] } };
}

/** Fields runts cannot honour yet are refused, never silently ignored. */
export function refuseUnsupported(spec: Spec): void {
  if (spec.linux?.intelRdt) throw new RuntsError('config.json /linux/intelRdt: Intel RDT is not supported by runts', { pointer: '/linux/intelRdt' });
  if (spec.linux?.netDevices && Object.keys(spec.linux.netDevices).length > 0) {
    throw new RuntsError('config.json /linux/netDevices: moving network devices into the container is not supported by runts yet', { pointer: '/linux/netDevices' });
  }
}

/**
 * The idmapping of a mount, if it is idmapped: its own uidMappings/gidMappings,
 * or (with "idmap"/"ridmap" and none of its own) the container's
 * linux.uidMappings/gidMappings — the rule of rootfs.ts planMount, which
 * reports the errors (null here).
 */
function idmappingOf(spec: Spec, m: Mount): Idmapping | null {
  const opt = (m.options ?? []).some((o) => o === 'idmap' || o === 'ridmap');
  const own = (m.uidMappings?.length ?? 0) > 0 && (m.gidMappings?.length ?? 0) > 0;
  if (!opt && !own) return null;
  const uidMappings = own ? m.uidMappings! : spec.linux?.uidMappings ?? [];
  const gidMappings = own ? m.gidMappings! : spec.linux?.gidMappings ?? [];
  return uidMappings.length > 0 && gidMappings.length > 0 ? { uidMappings, gidMappings } : null;
}

/** The distinct idmappings of the config's mounts. */
export function idmapsOf(spec: Spec): Idmapping[] {
  const seen = new Map<string, Idmapping>();
  for (const m of spec.mounts ?? []) {
    const map = idmappingOf(spec, m);
    if (map) seen.set(idmappingKey(map.uidMappings, map.gidMappings), map);
  }
  return [...seen.values()];
}

/** The bind mounts of a container with its own user namespace, as the rootfs plan has them. */
function bindTreeMounts(spec: Spec, bundle: string): MountStep[] {
  const out: MountStep[] = [];
  (spec.mounts ?? []).forEach((m, index) => {
    const step = planMount(m, index, spec, { bundle, noPivot: false, userns: true, cgroupns: false });
    if (step.kind === 'bind' && !step.remount && step.source !== null) out.push(step);
  });
  return out;
}

/** The create plan, deep-frozen. `spec` is the validated config (withListenFds applied). */
export function planCreate(spec: Spec, req: CreateRequest, rootless: RootlessFacts): CreatePlan {
  refuseUnsupported(spec);
  const p = spec.process;
  const console = req.console && !(req.consoleOnlyIfTerminal && !p?.terminal);
  if (p?.terminal && !console) {
    throw new RuntsError('cannot allocate a pseudo-TTY without --console-socket (process.terminal is true)', { pointer: '/process/terminal' });
  }
  if (!p?.terminal && console) {
    throw new RuntsError('--console-socket was given but process.terminal is false', { pointer: '/process/terminal' });
  }
  const preservedFds = req.preserveFds ?? 0;
  const namespaces = createNamespaces(spec, syncFdOf(preservedFds));
  if (namespaces.mountns === 'host' && ((spec.linux?.maskedPaths?.length ?? 0) > 0 || (spec.linux?.readonlyPaths?.length ?? 0) > 0)) {
    // runc's rule: masking /proc entries in the host's mount namespace would mask them for the host
    const pointer = spec.linux?.maskedPaths?.length ? '/linux/maskedPaths' : '/linux/readonlyPaths';
    throw new RuntsError(`config.json ${pointer}: unable to restrict sys entries without a private MNT namespace`, { pointer });
  }
  if (namespaces.mountns === 'host' && namespaces.userns) {
    // the init is root only in its new user namespace: it holds no privilege over the host's mounts (runc fails
    // later, at its first mount, with EPERM)
    throw new RuntsError('config.json /linux/namespaces: a new user namespace needs a mount namespace of its own ({"type": "mount"}): the init, root only in its user namespace, cannot mount the rootfs in the host\'s mount namespace', { pointer: '/linux/namespaces' });
  }
  if (namespaces.mountns === 'host' && req.noPivot) {
    throw new RuntsError('unable to use no-pivot without a private MNT namespace (config.json /linux/namespaces has no mount namespace)', { pointer: '/linux/namespaces' });
  }
  // rootless (src/container/rootless.ts): refuse what needs privilege; who writes the id maps
  const refusal = rootlessRefusals(spec, rootless, namespaces.mountns);
  if (refusal) throw refusal;
  const idMaps: MapMethod = namespaces.userns ? mapMethod(spec, rootless) : { kind: 'cli' };
  return freezePlan({
    rootfs: path.resolve(req.bundle, spec.root!.path),
    console,
    preservedFds,
    namespaces: { ...namespaces, nsbootArgs: withMapMethod(namespaces.nsbootArgs, idMaps) },
    idMaps,
    idmaps: idmapsOf(spec),
    bindTrees: namespaces.userns ? bindTreeMounts(spec, req.bundle) : [],
  });
}
