/**
 * The `helpers` map method of a rootless container (src/container/rootless.ts
 * mapMethod): the setuid newuidmap/newgidmap write the maps of nsboot's new
 * user namespace, allowing only the ranges /etc/subuid and /etc/subgid grant
 * the caller. Its own file: only `create` loads child_process for it.
 */
import { spawnSync } from 'node:child_process';
import { RuntsError } from '../common/errors.js';
import type { MapMethod } from './rootless.js';

/** Run newuidmap/newgidmap on nsboot's pid (the `helpers` method); their complaint is the error. */
export function writeMapsWithHelpers(pid: number, m: Extract<MapMethod, { kind: 'helpers' }>): void {
  for (const [tool, args, file] of [['newuidmap', m.newuidmap, '/etc/subuid'], ['newgidmap', m.newgidmap, '/etc/subgid']] as const) {
    const r = spawnSync(tool, [String(pid), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) {
      const code = (r.error as NodeJS.ErrnoException).code;
      throw new RuntsError(`rootless: ${tool}: ${code === 'ENOENT' ? 'not found (install the uidmap package): it is needed to map more than the caller\'s own id' : r.error.message}`, { op: tool, errno: code });
    }
    if (r.status !== 0) {
      throw new RuntsError(`rootless: ${tool} ${pid} ${args.join(' ')} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim()} (the ranges of config.json /linux/${tool === 'newuidmap' ? 'uid' : 'gid'}Mappings must be granted to this user in ${file})`, { op: tool, path: file });
    }
  }
}
