/**
 * The fd layout of the bootstrap (docs/protocol.md "File descriptors"): at
 * which number the init or exec stage finds each runtime fd, and the
 * environment that names them (src/protocol/boot-env.ts). Pure: the CLI
 * (src/container/create.ts, exec.ts) opens the fds and hands them to
 * src/container/launch.ts in this order; the plans name the same numbers.
 *
 *   create: 0-2, preserved (3 … 3+n-1), sync, init.sock listener, [console],
 *           [bind trees … | idmap user namespaces …], [mount namespace], [real stderr]
 *   exec:   0-2, preserved, sync, /proc/<init>/ns/mnt, /proc/<init>/root, [console]
 */
import { RuntsError } from '../common/errors.js';
import { BOOT_ENV } from '../protocol/boot-env.js';

export type BootEnv = Partial<Record<(typeof BOOT_ENV)[keyof typeof BOOT_ENV], number>>;

export interface CreateFdCounts {
  /** LISTEN_FDS + --preserve-fds. */
  preserved: number;
  console: boolean;
  /** Detached bind-mount trees (a container with its own user namespace: src/container/bind-trees.ts). */
  bindTrees: number;
  /** User namespaces of idmapped mounts (a container without one: src/container/idmap-userns.ts). */
  idmapUserns: number;
  /** A mount namespace joined by path. */
  mountns: boolean;
  /** The runtime's real stderr (while fd 2 is the CLI's pipe: src/container/init-death.ts). */
  stderr: boolean;
}

export interface CreateFdLayout {
  preserved: number;
  sync: number;
  start: number;
  console?: number;
  bindTrees: number[];
  idmapUserns: number[];
  mountns?: number;
  stderr?: number;
  /** How many fds the child gets (0 … size-1). */
  size: number;
  env: BootEnv;
}

/** The sync socket's number in the child: right after the preserved fds (known before anything is opened). */
export function syncFdOf(preserved: number): number {
  return 3 + preserved;
}

export function createFdLayout(c: CreateFdCounts): CreateFdLayout {
  const sync = syncFdOf(c.preserved);
  let next = sync + 2;
  const take = (n: number) => Array.from({ length: n }, () => next++);
  const console = c.console ? take(1)[0] : undefined;
  const bindTrees = take(c.bindTrees);
  const idmapUserns = take(c.idmapUserns);
  const mountns = c.mountns ? take(1)[0] : undefined;
  const stderr = c.stderr ? take(1)[0] : undefined;
  return {
    preserved: c.preserved, sync, start: sync + 1, console, bindTrees, idmapUserns, mountns, stderr, size: next,
    env: { [BOOT_ENV.SYNC_FD]: sync, [BOOT_ENV.START_FD]: sync + 1 },
  };
}

export interface ExecFdLayout {
  preserved: number;
  sync: number;
  mntns: number;
  root: number;
  console?: number;
  size: number;
  env: BootEnv;
}

export function execFdLayout(c: { preserved: number; console: boolean }): ExecFdLayout {
  const sync = syncFdOf(c.preserved);
  const console = c.console ? sync + 3 : undefined;
  return {
    preserved: c.preserved, sync, mntns: sync + 1, root: sync + 2, console, size: sync + 3 + (c.console ? 1 : 0),
    env: { [BOOT_ENV.SYNC_FD]: sync, [BOOT_ENV.MNTNS_FD]: sync + 1, [BOOT_ENV.ROOT_FD]: sync + 2 },
  };
}

/** What the child's fd table is made of: 'inherit' or a CLI fd, by position. */
export type Stdio = (number | 'inherit')[];

/**
 * The spawn's stdio for a layout: 0-1 inherited, 2 the given stderr (or
 * inherited), the preserved fds as they are, and each CLI fd at its place.
 */
export function placeFds(layout: { preserved: number; size: number }, stderr: number | undefined, at: [position: number | undefined, fd: number | undefined][]): Stdio {
  const stdio: Stdio = ['inherit', 'inherit', stderr ?? 'inherit'];
  for (let i = 0; i < layout.preserved; i++) stdio.push(3 + i);
  const rest: (number | undefined)[] = new Array(layout.size - stdio.length).fill(undefined);
  for (const [pos, fd] of at) {
    if (pos === undefined && fd === undefined) continue;
    if (pos === undefined || fd === undefined || pos < stdio.length || pos >= layout.size || rest[pos - stdio.length] !== undefined) {
      throw new RuntsError(`internal error: fd ${fd} does not fit the bootstrap's fd layout (position ${pos})`);
    }
    rest[pos - stdio.length] = fd;
  }
  if (rest.some((fd) => fd === undefined)) throw new RuntsError('internal error: a hole in the bootstrap\'s fd layout');
  return [...stdio, ...(rest as number[])];
}
