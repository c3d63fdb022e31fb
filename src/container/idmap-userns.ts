/**
 * User namespaces for idmapped mounts (config.md: mount uidMappings /
 * gidMappings with "idmap"/"ridmap"). mount_setattr(MOUNT_ATTR_IDMAP) takes
 * an fd of a user namespace whose maps are the mount's idmapping; making one
 * needs unshare(CLONE_NEWUSER), which neither node process can do (they are
 * multithreaded). So for each distinct mapping the CLI starts `nsboot -U`,
 * which unshares an empty user namespace and waits; the CLI writes its
 * uid_map/gid_map ("containerID hostID size" lines, as in the config); the
 * init stage opens /proc/<pid>/ns/user (the host's procfs, before
 * pivot_root) for the mount; the CLI then closes the holder's stdin and it
 * exits. A holder dies with the CLI (PR_SET_PDEATHSIG).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { RuntsError } from '../common/errors.js';
import { nsbootPath } from '../common/paths.js';
import type { InitPlan } from '../init/plan.js';
import type { IDMapping } from '../spec/types.js';

export interface IdmapUserns { pid: number; uidMappings: IDMapping[]; gidMappings: IDMapping[] }

export function mappingKey(uid: IDMapping[], gid: IDMapping[]): string {
  const f = (m: IDMapping[]) => m.map((x) => `${x.containerID}:${x.hostID}:${x.size}`).join(',');
  return `${f(uid)}/${f(gid)}`;
}

const mapText = (maps: IDMapping[]) => maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');

/** The distinct mappings of the plan's idmapped mounts. */
export function idmapsOf(plan: InitPlan): { uidMappings: IDMapping[]; gidMappings: IDMapping[] }[] {
  const seen = new Map<string, { uidMappings: IDMapping[]; gidMappings: IDMapping[] }>();
  for (const step of plan.rootfs.mounts) {
    if (!step.idmap) continue;
    seen.set(mappingKey(step.idmap.uidMappings, step.idmap.gidMappings), { uidMappings: step.idmap.uidMappings, gidMappings: step.idmap.gidMappings });
  }
  return [...seen.values()];
}

export class IdmapHolders {
  private readonly children: ChildProcess[] = [];
  readonly userns: IdmapUserns[] = [];

  /** Start one holder per mapping and write its maps. */
  async start(maps: { uidMappings: IDMapping[]; gidMappings: IDMapping[] }[]): Promise<void> {
    for (const m of maps) {
      const child = spawn(nsbootPath(), ['-U'], { stdio: ['pipe', 'pipe', 'ignore'], env: {} });
      this.children.push(child);
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.once('error', reject);
        child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) resolve(out.trim()); });
        child.once('exit', () => resolve(out.trim()));
      });
      if (line !== 'ready') throw new RuntsError(`idmapped mount: could not create a user namespace for mapping ${mappingKey(m.uidMappings, m.gidMappings)}: ${line || 'the helper exited'}`, { op: 'unshare(CLONE_NEWUSER)' });
      const pid = child.pid!;
      for (const [file, text] of [['uid_map', mapText(m.uidMappings)], ['gid_map', mapText(m.gidMappings)]] as const) {
        try {
          fs.writeFileSync(`/proc/${pid}/${file}`, text);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          throw new RuntsError(`idmapped mount: write /proc/${pid}/${file} (${text.trim().replace(/\n/g, ', ')}): ${code}`, { op: 'write', path: `/proc/${pid}/${file}`, errno: code });
        }
      }
      this.userns.push({ pid, uidMappings: m.uidMappings, gidMappings: m.gidMappings });
    }
  }

  /** Let every holder exit (closing its stdin) and reap it. */
  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.stdin?.end();
      setTimeout(() => { try { c.kill('SIGKILL'); } catch { /* gone */ } }, 2000).unref();
    })));
    this.children.length = 0;
  }
}
