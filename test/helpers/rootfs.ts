/**
 * Test fixtures: a busybox rootfs and a bundle around it.
 * Requires busybox-static (/bin/busybox, statically linked).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const BUSYBOX = process.env.RUNTS_BUSYBOX ?? '/bin/busybox';

export function haveBusybox(): boolean {
  try {
    const out = execFileSync('file', ['-L', BUSYBOX], { encoding: 'utf8' });
    return out.includes('statically linked') || out.includes('static-pie');
  } catch {
    return fs.existsSync(BUSYBOX);
  }
}

/** Make a minimal busybox rootfs under `dir` (bin/, etc/, proc/, dev/, ...). */
export function makeBusyboxRootfs(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o755);
  for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'usr/bin', 'usr/sbin', 'var', 'run']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  }
  fs.copyFileSync(BUSYBOX, path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) {
    const p = path.join(dir, 'bin', a);
    if (a !== 'busybox' && !fs.existsSync(p)) fs.symlinkSync('busybox', p);
  }
  fs.writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  fs.writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\nnobody:x:65534:\n');
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  return dir;
}

let cachedRootfs: string | undefined;

/** One shared, read-only-by-convention rootfs per test process. */
export function sharedRootfs(): string {
  if (!cachedRootfs) {
    cachedRootfs = makeBusyboxRootfs(fs.mkdtempSync(path.join(os.tmpdir(), 'runts-rootfs-')));
    process.on('exit', () => fs.rmSync(cachedRootfs!, { recursive: true, force: true }));
  }
  return cachedRootfs;
}

/** Mount points in this (the host's) mount namespace at or under a prefix. */
export function hostMountsUnder(prefix: string): string[] {
  const under = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean)
    .map((l) => l.split(' ')[4]!.replace(/\\040/g, ' ')).filter((m) => m === prefix || m.startsWith(under));
}

const tmpdirs: string[] = [];
let tmpdirCleanup = false;

/**
 * A fresh temp dir, removed when the test process exits — unless something is
 * still mounted below it (a recursive remove would then reach into the mount).
 */
export function tmpdir(prefix = 'runts-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpdirs.push(dir);
  if (!tmpdirCleanup) {
    tmpdirCleanup = true;
    process.on('exit', () => {
      for (const d of tmpdirs) {
        try {
          if (hostMountsUnder(d).length > 0) continue;
          fs.rmSync(d, { recursive: true, force: true });
        } catch { /* best effort */ }
      }
    });
  }
  return dir;
}
