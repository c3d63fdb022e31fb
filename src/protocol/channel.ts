/**
 * A JSON-lines channel over a blocking socket fd (docs/protocol.md).
 * Reads are synchronous: the CLI and the init stage each wait for the other
 * at well-defined points, and poll() bounds every wait that may time out.
 */
import * as fs from 'node:fs';
import { RuntsError } from '../common/errors.js';
import * as libc from '../linux/libc.js';
import { POLL } from '../linux/abi.js';
import type { Message } from './messages.js';

/** The peer closed the socket (exited) before sending what was expected. */
export class PeerExitedError extends RuntsError {
  constructor(peer: string, readonly expected: string) {
    super(`${peer} exited before sending "${expected}"`);
    this.name = 'PeerExitedError';
  }
}

export class Channel {
  private buf = Buffer.alloc(0);
  private closed = false;
  /** A second fd drained while waiting (the peer's stderr pipe, non-blocking). */
  private side?: { fd: number; onData: (b: Buffer) => void };

  constructor(readonly fd: number, private readonly peer: string) {}

  /**
   * While waiting for messages, also read `fd` (non-blocking; a pipe the peer
   * writes its stderr to) and hand what arrives to `onData`, so the peer can
   * never block on a full pipe. Stops at the pipe's EOF.
   */
  watch(fd: number, onData: (b: Buffer) => void): void {
    this.side = { fd, onData };
  }

  /** Read what the watched fd holds now; false at its EOF (or when none is watched). */
  drainSide(): boolean {
    const side = this.side;
    if (!side) return false;
    const chunk = Buffer.alloc(65536);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(side.fd, chunk, 0, chunk.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EINTR') continue;
        if (code === 'EAGAIN') return true;
        n = 0;
      }
      if (n === 0) { this.side = undefined; return false; }
      side.onData(Buffer.from(chunk.subarray(0, n)));
    }
  }

  /** Wait until the socket is readable, draining the watched fd meanwhile; false on timeout. */
  private waitReadable(deadline: number | undefined): boolean {
    for (;;) {
      const left = deadline === undefined ? -1 : Math.max(0, deadline - Date.now());
      const fds = [{ fd: this.fd, events: POLL.IN }];
      if (this.side) fds.push({ fd: this.side.fd, events: POLL.IN });
      const [rev, srev] = libc.poll(fds, left);
      if (srev) this.drainSide();
      if (rev) return true;
      if (!srev && deadline !== undefined && Date.now() >= deadline) return false;
    }
  }

  send(msg: Message): void {
    const data = Buffer.from(JSON.stringify(msg) + '\n');
    let off = 0;
    while (off < data.length) off += fs.writeSync(this.fd, data, off);
  }

  /**
   * The next message, or null at EOF. With a timeout (ms), throws when
   * nothing complete arrives in time.
   */
  recv(timeoutMs?: number): Message | null {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl >= 0) {
        const line = this.buf.subarray(0, nl).toString();
        this.buf = this.buf.subarray(nl + 1);
        try {
          return JSON.parse(line) as Message;
        } catch {
          throw new RuntsError(`protocol error: ${this.peer} sent a malformed message: ${line.slice(0, 200)}`);
        }
      }
      if (this.closed) return null;
      if (deadline !== undefined || this.side) {
        if (!this.waitReadable(deadline)) throw new RuntsError(`timed out after ${timeoutMs} ms waiting for ${this.peer}`);
      }
      const chunk = Buffer.alloc(65536);
      let n: number;
      try {
        n = fs.readSync(this.fd, chunk, 0, chunk.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EINTR') continue;
        if (code === 'ECONNRESET') n = 0;
        else throw e;
      }
      if (n === 0) this.closed = true;
      else this.buf = Buffer.concat([this.buf, chunk.subarray(0, n)]);
    }
  }

  /** recv() that insists on a message type; an error message is thrown. */
  expect<T extends Message['type']>(type: T, timeoutMs?: number): Extract<Message, { type: T }> {
    const msg = this.recv(timeoutMs);
    if (msg === null) throw new PeerExitedError(this.peer, type);
    if (msg.type === 'error') throw RuntsError.fromJSON(msg.error);
    if (msg.type !== type) throw new RuntsError(`protocol error: expected "${type}" from ${this.peer}, got "${msg.type}"`);
    return msg as Extract<Message, { type: T }>;
  }

  /**
   * After `start`/`exec-plan`: read until EOF. The peer sends "exec" just
   * before execve and its end of the socket closes (CLOEXEC) when execve
   * succeeds; an "error" at any point is thrown. True if "exec" was seen.
   * With a timeout (ms) for the whole wait, a peer that hangs is an error.
   */
  awaitExec(timeoutMs?: number): boolean {
    let execd = false;
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    for (;;) {
      const msg = this.recv(deadline === undefined ? undefined : Math.max(0, deadline - Date.now()));
      if (msg === null) return execd;
      if (msg.type === 'exec') execd = true;
      else if (msg.type === 'error') throw RuntsError.fromJSON(msg.error);
    }
  }

  close(): void {
    libc.close(this.fd);
  }
}
