/**
 * Reading the state directory (the layout is in store.ts): what `state` and
 * `list` need, and nothing that locks or writes, so that the first stage of
 * the CLI (src/cli/entry.ts) can answer them without the libc layer. Readers
 * take no lock and treat a vanished file as "gone"; Store adds the mutating side.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntsError } from '../common/errors.js';
import type { CgroupRecord } from '../cgroups/manager.js';
import type { HostRootfsMount } from '../container/host-rootfs.js';

export const DEFAULT_ROOT = '/run/runts';
const CONTAINER_ID = /^[A-Za-z0-9_+-][A-Za-z0-9_+.-]*$/;

export interface ContainerRecord {
  id: string;
  ociVersion: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  /** 'creating' until the init said ready. */
  phase: 'creating' | 'created';
  /** The runts process doing the create, to tell a live create from a dead one. */
  creator: { pid: number; startTime: string };
  /** The container init, as soon as it exists. */
  init?: { pid: number; startTime: string };
  /** Cgroups, recorded before they are created. */
  cgroup?: CgroupRecord;
  /** The init has its own pid namespace (kill --all is then implied by killing the init). */
  pidns: boolean;
  /** No mount namespace: the rootfs self-bind in the host's, recorded before it is made (src/container/host-rootfs.ts). */
  hostRootfsMount?: HostRootfsMount;
}

export class StoreReader {
  constructor(readonly root: string) {}

  /** Every command reaches a container only through here: ids are checked (no `/`, `..`). */
  dir(id: string): string {
    if (!CONTAINER_ID.test(id) || id.length > 1024) {
      throw new RuntsError(`invalid container id ${JSON.stringify(id)}: must match [A-Za-z0-9_+-][A-Za-z0-9_+.-]* (max 1024)`, { op: 'lookup' });
    }
    return path.join(this.root, id);
  }

  /** The record, or null when the container does not exist (or is being removed). */
  read(id: string): ContainerRecord | null {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), 'state.json'), 'utf8')) as ContainerRecord;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      if (e instanceof SyntaxError) throw new RuntsError(`state of container "${id}" is corrupt: ${e.message}`, { path: path.join(this.dir(id), 'state.json') });
      throw e;
    }
  }

  mustRead(id: string): ContainerRecord {
    const rec = this.read(id);
    if (!rec) throw notFound(id);
    return rec;
  }

  config(id: string): unknown {
    return JSON.parse(fs.readFileSync(path.join(this.dir(id), 'config.json'), 'utf8'));
  }

  /** Ids of all containers (hidden in-progress directories skipped). */
  ids(): string[] {
    try {
      return fs.readdirSync(this.root).filter((n) => !n.startsWith('.')).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }
}

export function notFound(id: string): RuntsError {
  return new RuntsError(`container "${id}" does not exist`, { op: 'lookup', errno: 'ENOENT' });
}
