/**
 * A real unprivileged user for the rootless tests: made by root with useradd
 * (a home of its own, subordinate uid/gid ranges in /etc/subuid and
 * /etc/subgid, an $XDG_RUNTIME_DIR under /run/user), commands run as it
 * through setpriv, and everything removed at the end (its processes, by pid;
 * the user, its home, its subordinate ranges, its runtime dir).
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import type { Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cannotRunContainers, have, RUNTS } from '../helpers/cli.js';
import { runWithFiles, type Result, type RunFilesOpts } from '../helpers/run-files.js';

export const CHECKOUT = path.resolve(__dirname, '../..');

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  xdg: string;
  /** The first subordinate uid/gid of its /etc/subuid and /etc/subgid ranges (65536 each). */
  subuid: number;
  subgid: number;
  env: Record<string, string>;
  /** runts as the user reaches it: this checkout's dist/runts.cjs, or its path in a bind mount of the checkout (useCheckout). */
  runtsPath: string;
  /** Run a command as the user (setpriv), stdout/stderr through files. */
  run(file: string, args: string[], opts?: RunFilesOpts & { cwd?: string }): Result;
  /** runts as the user (no --root: the default, $XDG_RUNTIME_DIR/runts). */
  runts(args: string[], opts?: RunFilesOpts & { cwd?: string }): Result;
  /** The argv that runs `file args` as the user. */
  argv(file: string, args: string[]): string[];
  /** A directory owned by the user (removed with its home). */
  dir(name: string): string;
  /** The user's live processes (host pids). */
  processes(): number[];
  remove(): void;
}

function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Why rootless containers cannot be tested here, or false. */
export function cannotTestRootless(): string | false {
  const why = cannotRunContainers();
  if (why) return why;
  for (const cmd of ['useradd', 'userdel', 'setpriv', 'newuidmap', 'newgidmap']) {
    if (!have(cmd)) return `${cmd} is not installed (${cmd.startsWith('new') ? 'apt-get install uidmap' : 'passwd / util-linux'})`;
  }
  const max = fs.existsSync('/proc/sys/user/max_user_namespaces') ? fs.readFileSync('/proc/sys/user/max_user_namespaces', 'utf8').trim() : '1';
  if (max === '0') return 'user namespaces are disabled (user.max_user_namespaces = 0)';
  if (fs.existsSync('/proc/sys/kernel/unprivileged_userns_clone') && fs.readFileSync('/proc/sys/kernel/unprivileged_userns_clone', 'utf8').trim() === '0') {
    return 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)';
  }
  return false;
}

/** Ranges in /etc/subuid-style text: the first id after all of them (at least 100000). */
function freeSubStart(file: string): number {
  let end = 100000;
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  for (const l of text.split('\n')) {
    const [, start, count] = l.split(':');
    if (start && count) end = Math.max(end, Number(start) + Number(count));
  }
  return end;
}

function subStart(file: string, name: string): number | undefined {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const line = text.split('\n').find((l) => l.startsWith(`${name}:`));
  return line ? Number(line.split(':')[1]) : undefined;
}

function dropLines(file: string, name: string): void {
  if (!fs.existsSync(file)) return;
  const text = fs.readFileSync(file, 'utf8');
  const kept = text.split('\n').filter((l) => !l.startsWith(`${name}:`)).join('\n');
  if (kept !== text) fs.writeFileSync(file, kept);
}

/** Make the user; throws with the reason when that fails. */
const userCleanups = new Map<string, (() => void)[]>();

export function makeTestUser(): TestUser {
  const name = `rtsrl${process.pid % 100000}`;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'rootless-home-'));
  fs.rmdirSync(home);
  const r = sh('useradd', ['-m', '-d', home, '-s', '/bin/sh', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', name]);
  if (r.code !== 0) throw new Error(`useradd ${name}: ${r.out}`);
  const uid = Number(sh('id', ['-u', name]).out.trim());
  const gid = Number(sh('id', ['-g', name]).out.trim());
  // our own ranges, after every range already granted (no overlap with other users)
  for (const [file, flag] of [['/etc/subuid', '--add-subuids'], ['/etc/subgid', '--add-subgids']] as const) {
    if (subStart(file, name) !== undefined) continue;
    const start = freeSubStart(file);
    const m = sh('usermod', [flag, `${start}-${start + 65535}`, name]);
    if (m.code !== 0) fs.appendFileSync(file, `${name}:${start}:65536\n`);
  }
  const xdg = `/run/user/${uid}`;
  fs.mkdirSync(xdg, { recursive: true, mode: 0o700 });
  fs.chownSync(xdg, uid, gid);
  const env: Record<string, string> = {
    HOME: home, USER: name, LOGNAME: name, XDG_RUNTIME_DIR: xdg,
    PATH: `${path.dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
  };
  const argv = (file: string, args: string[]) => [
    'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--',
    'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), file, ...args,
  ];
  const cleanups: (() => void)[] = [];
  userCleanups.set(name, cleanups);
  const user: TestUser = {
    name, uid, gid, home, xdg, env,
    subuid: subStart('/etc/subuid', name)!, subgid: subStart('/etc/subgid', name)!,
    argv,
    run(file, args, opts = {}) {
      const a = argv(file, args);
      // in a directory of the user's unless told: the test's own cwd may be closed to it (a checkout under /root)
      a.splice(a.indexOf('env') + 1, 0, '-C', opts.cwd ?? home);
      return runWithFiles(a[0]!, a.slice(1), opts);
    },
    runtsPath: RUNTS,
    runts(args, opts = {}) {
      return this.run(this.runtsPath, args, opts);
    },
    dir(n) {
      const d = path.join(home, n);
      fs.mkdirSync(d, { recursive: true });
      fs.chownSync(d, uid, gid);
      return d;
    },
    processes() {
      const out: number[] = [];
      for (const p of fs.readdirSync('/proc')) {
        if (!/^[0-9]+$/.test(p)) continue;
        try {
          if (fs.statSync(`/proc/${p}`).uid === uid) out.push(Number(p));
        } catch { /* gone */ }
      }
      return out;
    },
    remove() {
      // every process is one this test started (as the user): end them by pid
      for (let i = 0; i < 3; i++) {
        const left = this.processes();
        if (left.length === 0) break;
        for (const p of left) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
        spawnSync('sleep', ['0.2']);
      }
      for (const undo of cleanups.splice(0)) undo();
      sh('userdel', ['-r', '-f', name]);
      dropLines('/etc/subuid', name);
      dropLines('/etc/subgid', name);
      fs.rmSync(xdg, { recursive: true, force: true });
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
  return user;
}

/**
 * Why the user cannot run this checkout's runts from `root` (a directory on
 * the way that others may not enter, files they may not read), or false.
 */
function unreadableCheckout(user: TestUser, root: string): string | false {
  const need: [string, string][] = [
    [path.join(root, path.relative(CHECKOUT, RUNTS)), '-r'], [path.join(root, 'dist/cli.bundle.cjs'), '-r'], [path.join(root, 'dist/init.cjs'), '-r'],
    [path.join(root, 'build/Release/nsboot'), '-x'], [path.join(root, 'node_modules/koffi/package.json'), '-r'], [process.execPath, '-x'],
  ];
  for (const [p, flag] of need) {
    const r = user.run('test', [flag, p]);
    if (r.code !== 0) return `the unprivileged user cannot ${flag === '-r' ? 'read' : 'execute'} ${p}`;
  }
  return false;
}

/**
 * Let the user run this checkout's build: as it is when the user can read it;
 * else (a clone under a directory others may not enter, e.g. /root) through a
 * bind mount of the checkout on a world-readable temporary directory — the
 * same files, so the same build is tested — unmounted when the user is
 * removed. Sets user.runtsPath; returns why it cannot, or false.
 */
export function useCheckout(user: TestUser): string | false {
  if (!unreadableCheckout(user, CHECKOUT)) return false;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-checkout-'));
  fs.chmodSync(dir, 0o755);
  const undo = () => {
    sh('umount', ['-l', dir]);
    try { fs.rmdirSync(dir); } catch { /* still mounted: left for the next boot */ }
  };
  const m = sh('mount', ['--bind', '-o', 'ro', CHECKOUT, dir]);
  if (m.code !== 0) {
    undo();
    return `the unprivileged user cannot read this checkout and a bind mount of it failed: ${m.out.trim()}`;
  }
  userCleanups.get(user.name)!.push(undo);
  const why = unreadableCheckout(user, dir);
  if (why) return `${why} (through a bind mount of the checkout: make the checkout itself and node readable by other users)`;
  user.runtsPath = path.join(dir, path.relative(CHECKOUT, RUNTS));
  return false;
}

/**
 * The rootless test files' start: skip (with the reason) where rootless
 * containers cannot be tested or `extraWhy` says so; else a test user who can
 * run this checkout, removed at the end (after `beforeRemove`), handed to `tests`.
 */
export function withTestUser(t: Test, tests: (user: TestUser) => void, o: { extraWhy?: string | false; beforeRemove?: (user: TestUser) => void } = {}): void {
  const why = cannotTestRootless() || o.extraWhy;
  if (why) {
    t.plan(0, why);
    return;
  }
  const user = makeTestUser();
  t.teardown(() => {
    o.beforeRemove?.(user);
    user.remove();
  });
  const unreadable = useCheckout(user);
  if (unreadable) t.plan(0, unreadable);
  else tests(user);
}
