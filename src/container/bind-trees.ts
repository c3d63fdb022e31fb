/**
 * Bind mounts of a container with its own user namespace, made on the host.
 *
 * The init opens bind sources from inside the container's user namespace, as
 * the mapped root: a source below a directory that root of the host can
 * enter and the mapped uid cannot (a 0700 root-owned directory) fails with
 * EACCES, where runc mounts it (it opens the sources with the runtime's own
 * rights before entering the namespace). And an idmapped mount of a host
 * filesystem needs privilege over the host's user namespace. So for such a
 * container the CLI makes every bind mount's tree — open_tree(CLONE) of the
 * source, plus MOUNT_ATTR_IDMAP with the holder's namespace when the mount is
 * idmapped — and passes the detached trees to the init (InitPlan.bindTrees,
 * by mount index, docs/protocol.md); the init sets the other attributes and
 * moves each into place on its verified destination. Which mounts are bind
 * mounts, their sources and idmappings come from the rootfs plan's own rule
 * (planMount; src/plan/create.ts CreatePlan.bindTrees), so the CLI and the
 * init cannot disagree.
 */
import * as fs from 'node:fs';
import { mountSetattr, openTree } from '../linux/libc.js';
import { AT, MOUNT_ATTR, OPEN_TREE } from '../linux/abi.js';
import { idmappingKey, type MountStep } from '../linux/rootfs/plan-types.js';
import { RuntsError, SyscallError } from '../common/errors.js';
import type { IdmapUserns } from './idmap-userns.js';

export interface BindTree { index: number; fd: number }

/** The detached trees (O_CLOEXEC fds of the CLI; the caller passes them at spawn and closes them). */
export function prepareBindTrees(steps: readonly MountStep[], holders: IdmapUserns[]): BindTree[] {
  const out: BindTree[] = [];
  try {
    steps.forEach((step) => {
      const index = step.index;
      if (step.kind !== 'bind' || step.remount || step.source === null) return;
      const source = step.source;
      try {
        const tree = openTree(AT.FDCWD, source, OPEN_TREE.CLONE | (step.recursive ? AT.RECURSIVE : 0), source);
        out.push({ index, fd: tree });
        if (!step.idmap) return;
        const key = idmappingKey(step.idmap.uidMappings, step.idmap.gidMappings);
        const h = holders.find((u) => idmappingKey(u.uidMappings, u.gidMappings) === key);
        if (!h) throw new RuntsError(`idmapped mount: no user namespace was prepared for the mappings ${key} (uid/gid)`, { op: 'mount_setattr(MOUNT_ATTR_IDMAP)', pointer: `/mounts/${index}` });
        mountSetattr(tree, '', AT.EMPTY_PATH | (step.idmap.recursive ? AT.RECURSIVE : 0),
          { set: MOUNT_ATTR.IDMAP, clr: 0, propagation: 0, usernsFd: h.fd }, `${source} (idmap)`);
      } catch (e) {
        // the same words as the init's errors: "mount SOURCE to DEST: open_tree SOURCE: ENOENT (...)"
        if (e instanceof SyscallError) throw new SyscallError(e.op ?? 'syscall', e.code, e.path, `mount ${source} to ${step.destination}`);
        throw e;
      }
    });
  } catch (e) {
    for (const t of out) { try { fs.closeSync(t.fd); } catch { /* closed */ } }
    throw e;
  }
  return out;
}
