/**
 * Names both sides of docs/protocol.md share: the environment variables that
 * carry the runtime's fds into the init and exec stages, the PATH they get,
 * and the step timeout of the protocol. The CLI side starts the bootstrap
 * through src/container/launch.ts.
 *
 * No imports: the init stage's first module (announce-boot.ts) uses it before
 * anything else of its bundle is loaded.
 */

/** One step of the parent/child protocol (a message the other side must send) may take this long. */
export const STEP_TIMEOUT_MS = 60_000;

/** Environment variables naming the runtime's fds in the init and exec stages (docs/protocol.md). */
export const BOOT_ENV = {
  /** the sync socket (both stages) */
  SYNC_FD: '_RUNTS_SYNC_FD',
  /** the listening init.sock (init stage) */
  START_FD: '_RUNTS_START_FD',
  /** /proc/<init>/ns/mnt (exec stage) */
  MNTNS_FD: '_RUNTS_MNTNS_FD',
  /** O_PATH /proc/<init>/root (exec stage) */
  ROOT_FD: '_RUNTS_ROOT_FD',
} as const;

/** The stages' PATH (they get no other variable from the runtime's environment). */
export const STAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The fd a BOOT_ENV variable names, removed from the environment (the user program must not see it). */
export function takeBootFd(name: (typeof BOOT_ENV)[keyof typeof BOOT_ENV]): number {
  const fd = Number(process.env[name]);
  delete process.env[name];
  return fd;
}
