/**
 * When nsboot or the init dies before `ready`, say why: the error names its
 * exit status or the signal that killed it, and the tail of what it wrote to
 * stderr (instead of a bare "exited before sending"; runc users complained
 * of exactly that "EOF from the init" class).
 *
 * Until `ready` the init's stderr is a pipe the CLI reads while it waits
 * (docs/protocol.md): every byte is passed on to the CLI's own stderr as it
 * arrives, and the last few KiB are kept for the error. The init puts the
 * real stderr back (InitPlan.stderrFd) before the container's stdio is final.
 * The CLI is a child subreaper during create, so the init, orphaned when
 * nsboot exits, becomes its child and its exit status can be read.
 */
import * as fs from 'node:fs';
import { constants } from 'node:os';
import { RuntsError } from '../common/errors.js';
import { sleepMs } from '../common/sleep.js';
import * as libc from '../linux/libc.js';
import { CLD_EXITED, O, P_PID, WEXITED, WNOHANG, WNOWAIT } from '../linux/abi.js';
import { PeerExitedError } from '../protocol/channel.js';

const TAIL_BYTES = 2048;
const WAIT_DEATH_MS = 2000;

/** The child's stderr, captured until ready. */
export class StderrTap {
  private tail = Buffer.alloc(0);

  private constructor(readonly readFd: number, readonly writeFd: number) {}

  /** A pipe for the child's stderr, or undefined when the CLI has no stderr to pass on. */
  static open(): StderrTap | undefined {
    try { fs.fstatSync(2); } catch { return undefined; }
    const fds = libc.pipe2(O.CLOEXEC | O.NONBLOCK);
    // only the read end is non-blocking: the child writes as to any stderr
    libc.setNonblock(fds[1]!, false);
    return new StderrTap(fds[0]!, fds[1]!);
  }

  /** Pass on to our stderr, keep the tail. */
  onData = (b: Buffer): void => {
    try { fs.writeSync(2, b); } catch { /* our stderr is gone: keep the tail anyway */ }
    this.tail = Buffer.concat([this.tail, b]).subarray(-TAIL_BYTES);
  };

  /** The last lines written, trimmed; '' if none. */
  lastWords(): string {
    return this.tail.toString('utf8').replace(/^[^\n]*\uFFFD/, '').trim();
  }
}

/** "exited with status N" / "was killed by SIGX" from a wait status. */
export function describeWaitStatus(status: number): string {
  const sig = status & 0x7f;
  if (sig === 0) return `exited with status ${(status >> 8) & 0xff}`;
  return `was killed by signal ${signalName(sig)}${status & 0x80 ? ' (core dumped)' : ''}`;
}

function signalName(sig: number): string {
  const name = Object.entries(constants.signals).find(([, n]) => n === sig)?.[0];
  return name ?? `${sig}`;
}

/** Wait status of our child `pid` once it is a zombie (reaped unless peek), or null if it does not die in time / is not ours. */
function deathOf(pid: number, peek: boolean): number | null {
  const deadline = Date.now() + WAIT_DEATH_MS;
  for (;;) {
    if (peek) {
      // leave the zombie to node's child_process, which reaps its own children
      const info = Buffer.alloc(128);
      if (libc.waitid(P_PID, pid, info, WEXITED | WNOWAIT | WNOHANG) === -1) return null;
      if (info.readInt32LE(16) === pid) {
        const code = info.readInt32LE(8), st = info.readInt32LE(24);
        return code === CLD_EXITED ? (st & 0xff) << 8 : (st & 0x7f) | (code === 3 ? 0x80 : 0);
      }
    } else {
      let r: { status: number } | null;
      try { r = libc.waitpid(pid, WNOHANG); } catch { return null; }
      if (r) return r.status;
    }
    if (Date.now() > deadline) return null;
    sleepMs(5);
  }
}

/**
 * The error for a child that went away before `ready`: which process, its
 * status or signal, and its last words on stderr. Other errors pass through.
 */
export function explainDeath(e: unknown, who: { nsboot?: number; init?: number }, tap: StderrTap | undefined, drain: () => void): unknown {
  if (!(e instanceof PeerExitedError)) return e;
  drain();
  const parts: string[] = [];
  if (who.init !== undefined) {
    const st = deathOf(who.init, false);
    parts.push(st === null ? `the init (pid ${who.init}) closed its end but did not exit within ${WAIT_DEATH_MS} ms` : `the init (pid ${who.init}) ${describeWaitStatus(st)}`);
  } else if (who.nsboot !== undefined) {
    const st = deathOf(who.nsboot, true);
    parts.push(st === null ? `nsboot closed its end but did not exit within ${WAIT_DEATH_MS} ms` : `nsboot ${describeWaitStatus(st)}`);
  }
  drain();
  const words = tap?.lastWords();
  if (words) parts.push(`its last words on stderr: ${JSON.stringify(words.split('\n').slice(-10).join('\n'))}`);
  return new RuntsError(`${e.message}: ${parts.join('; ') || 'no further information'}`, { op: `create (waiting for "${e.expected}")` });
}
