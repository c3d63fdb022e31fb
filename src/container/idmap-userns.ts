/**
 * User namespaces for idmapped mounts (config.md: mount uidMappings /
 * gidMappings with "idmap"/"ridmap"). mount_setattr(MOUNT_ATTR_IDMAP) takes
 * an fd of a user namespace whose maps are the mount's idmapping; making one
 * needs unshare(CLONE_NEWUSER), which neither node process can do (they are
 * multithreaded). So for each distinct mapping the CLI starts `nsboot -U`,
 * which unshares an empty user namespace and waits; the CLI writes its
 * uid_map/gid_map ("containerID hostID size" lines, as in the config) and
 * opens /proc/<pid>/ns/user; the init stage inherits that fd (nsboot's
 * spawn) and gives it to mount_setattr; once the mounts are done the CLI
 * closes its fds and the holder's stdin, and the holder exits. A holder dies
 * with the CLI (PR_SET_PDEATHSIG).
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { RuntsError } from '../common/errors.js';
import { nsbootPath } from '../common/paths.js';
import { idMapText } from '../linux/namespaces.js';
import type { Idmapping } from '../plan/create.js';
import { idmappingKey } from '../linux/rootfs/plan-types.js';
import type { IDMapping } from '../spec/types.js';

/** A holder's user namespace, as an fd of the CLI (O_CLOEXEC; passed to the init at spawn). */
export interface IdmapUserns { fd: number; uidMappings: IDMapping[]; gidMappings: IDMapping[] }

export class IdmapHolders {
  private readonly children: ChildProcess[] = [];
  readonly userns: IdmapUserns[] = [];

  /** Start one holder per mapping and write its maps. */
  async start(maps: Idmapping[]): Promise<void> {
    for (const m of maps) {
      // node:child_process only here (it loads net and stream): most creates have no idmapped mount
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const child = (require('node:child_process') as typeof import('node:child_process')).spawn(nsbootPath(), ['-U'], { stdio: ['pipe', 'pipe', 'ignore'], env: {} });
      this.children.push(child);
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.once('error', reject);
        child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) resolve(out.trim()); });
        child.once('exit', () => resolve(out.trim()));
      });
      if (line !== 'ready') throw new RuntsError(`idmapped mount: could not create a user namespace for mapping ${idmappingKey(m.uidMappings, m.gidMappings)}: ${line || 'the helper exited'}`, { op: 'unshare(CLONE_NEWUSER)' });
      const pid = child.pid!;
      for (const [file, text] of [['uid_map', idMapText(m.uidMappings)], ['gid_map', idMapText(m.gidMappings)]] as const) {
        try {
          fs.writeFileSync(`/proc/${pid}/${file}`, text);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          throw new RuntsError(`idmapped mount: write /proc/${pid}/${file} (${text.trim().replace(/\n/g, ', ')}): ${code}`, { op: 'write', path: `/proc/${pid}/${file}`, errno: code });
        }
      }
      // an fd, not a path: an init in its own user namespace may not open
      // /proc/<pid>/ns/user of a host process (ptrace access check, EACCES)
      this.userns.push({ fd: fs.openSync(`/proc/${pid}/ns/user`, 'r'), uidMappings: m.uidMappings, gidMappings: m.gidMappings });
    }
  }

  /** Close the namespace fds, let every holder exit (closing its stdin) and reap it. */
  async stop(): Promise<void> {
    for (const u of this.userns.splice(0)) { try { fs.closeSync(u.fd); } catch { /* closed */ } }
    await Promise.all(this.children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.stdin?.end();
      setTimeout(() => { try { c.kill('SIGKILL'); } catch { /* gone */ } }, 2000).unref();
    })));
    this.children.length = 0;
  }
}
