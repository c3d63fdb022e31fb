/**
 * Runs inside `unshare --mount --pid --fork ...` (see harness.ts): applies a
 * RootfsPlan with the three setup phases, optionally plays an attacker between
 * phases, then execs busybox sh inside the container to print what the kernel
 * shows. Errors are printed as one "RUNTS_ERROR: ..." line on stdout.
 */
import * as fs from 'node:fs';
import { enterRootfs, finishRootfs, mountConsole, prepareRootfs, type PrepareEnv } from '../../src/linux/rootfs/setup.js';
import { openPty } from '../../src/init/console.js';
import type { RootfsPlan } from '../../src/linux/rootfs/plan-types.js';
import { checkRootfsOnHost } from '../../src/linux/rootfs/mountns.js';
import { execve, open, setCloexec } from '../../src/linux/libc.js';
import { O } from '../../src/linux/abi.js';

export interface Scenario {
  plan: RootfsPlan;
  /** Shell script run by busybox sh after setup (inside the container, or wherever we are after an error). */
  script: string;
  /** Simulated attacker action inside the container after enterRootfs, before finishRootfs. */
  attack?: { kind: 'replace-devnull-with-symlink'; target: string } | { kind: 'replace-devnull-with-file' };
  /** After an error, still run the script (to look at the mount namespace). */
  continueOnError?: boolean;
  /** pid of a process whose user namespace carries the idmapped-mount mappings. */
  idmapPid?: number;
  /** Stop after this phase (then run the script). */
  stopAfter?: 'prepare' | 'enter';
  /** After finishRootfs: allocate a pty from the container's devpts and bind its slave onto /dev/console (as the init does). */
  console?: boolean;
}

function run(sc: Scenario): void {
  const env: PrepareEnv = {};
  if (sc.idmapPid) {
    env.idmapUserns = (uid, gid) => {
      process.stdout.write(`IDMAP_REQUEST: ${JSON.stringify({ uid, gid })}\n`);
      return open(`/proc/${sc.idmapPid}/ns/user`, O.RDONLY);
    };
  }
  if (sc.plan.mountns !== 'join') {
    // what runts create does on the host: check the rootfs, start the init in it (mountns.ts)
    checkRootfsOnHost(sc.plan.rootfs);
    process.chdir(sc.plan.rootfs);
  }
  prepareRootfs(sc.plan, env);
  if (sc.stopAfter === 'prepare') return;
  enterRootfs(sc.plan);
  if (sc.stopAfter === 'enter') return;
  if (sc.attack) {
    fs.unlinkSync('/dev/null');
    if (sc.attack.kind === 'replace-devnull-with-symlink') fs.symlinkSync(sc.attack.target, '/dev/null');
    else fs.writeFileSync('/dev/null', '');
  }
  finishRootfs(sc.plan);
  if (sc.console) {
    const pty = openPty();
    mountConsole(pty.slave);
    process.stdout.write(`PTY: ${pty.name}\n`);
  }
}

const sc = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as Scenario;
let failed = false;
try {
  run(sc);
} catch (e) {
  failed = true;
  process.stdout.write(`RUNTS_ERROR: ${(e as Error).message}\n`);
}
if (failed && !sc.continueOnError) process.exit(3);
for (const fd of [0, 1, 2]) setCloexec(fd, false);
execve('/bin/busybox', ['sh', '-c', sc.script], ['PATH=/bin:/sbin:/usr/bin', `FAILED=${failed ? 1 : 0}`]);
