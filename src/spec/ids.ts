/**
 * The process's uid, gid and additional gids must be ids the process can
 * really get. 4294967295 is (uid_t)-1, which setresuid/setresgid/chown read
 * as "leave unchanged": a process configured with it would keep the
 * runtime's uid 0 (and gid 0). And in a new user namespace an id must fall
 * inside a range of linux.uidMappings / gidMappings, or the kernel cannot
 * map it. Used for config.json, `exec --process` files and exec's
 * --user / --additional-gids flags.
 */
import { ConfigError } from '../common/errors.js';
import { newUserNamespaceMappings } from '../plan/namespaces.js';
import type { IDMapping, Linux, User } from './types.js';

/** (uid_t)-1 / (gid_t)-1. */
export const UNCHANGED_ID = 0xffffffff;

function mapped(id: number, maps: IDMapping[]): boolean {
  return maps.some((m) => id >= m.containerID && id < m.containerID + m.size);
}

/**
 * Problems with the ids of `user`. `at` is the pointer of the user object
 * ('/process/user' in config.json); `idsAt` names where the mappings are.
 */
export function userIdProblems(user: Partial<User>, linux: Linux | undefined, at = '/process/user'): ConfigError[] {
  const out: ConfigError[] = [];
  const maps = newUserNamespaceMappings(linux);
  const check = (id: unknown, pointer: string, kind: 'uid' | 'gid'): void => {
    if (typeof id !== 'number') return; // the schema reports it
    if (id === UNCHANGED_ID) {
      const call = kind === 'uid' ? 'setresuid' : 'setresgid';
      out.push(new ConfigError(pointer, `${kind} ${id} is (${kind}_t)-1, which ${call} takes as "leave unchanged": the process would keep the runtime's ${kind} 0`));
    } else if (maps && !mapped(id, maps[kind])) {
      const key = kind === 'uid' ? 'uidMappings' : 'gidMappings';
      out.push(new ConfigError(pointer, `${kind} ${id} is not mapped in the container's user namespace (/linux/${key})`));
    }
  };
  check(user.uid, `${at}/uid`, 'uid');
  check(user.gid, `${at}/gid`, 'gid');
  (user.additionalGids ?? []).forEach((g, i) => check(g, `${at}/additionalGids/${i}`, 'gid'));
  return out;
}
