/**
 * A small seccomp agent for the tests (runc's contrib/cmd/seccompagent
 * protocol): listens on a unix socket; every connection brings one message,
 * the container process state JSON with the listener fd as SCM_RIGHTS. It
 * answers every notification with success (the syscall "works" without
 * doing anything) and records the syscall numbers. Driven by pump() from the
 * test's event loop while the runtime runs as a child process.
 */
import * as fs from 'node:fs';
import { accept, bindUnix, close, ioctl, listen, poll, recvFd, socket } from '../../src/linux/libc.js';
import { POLL, SOCK } from '../../src/linux/abi.js';

/** SECCOMP_IOCTL_NOTIF_RECV / _SEND: _IOWR('!', 0|1, struct seccomp_notif (80) / seccomp_notif_resp (24)). */
const NOTIF_RECV = 0xc0502100;
const NOTIF_SEND = 0xc0182101;

export interface AgentMessage { msg: Record<string, any>; fdKind: string | null } // eslint-disable-line @typescript-eslint/no-explicit-any

export class Agent {
  private lsock: number;
  private pending: number[] = [];
  private listeners: number[] = [];
  readonly messages: AgentMessage[] = [];
  readonly syscalls: number[] = [];

  constructor(readonly path: string) {
    this.lsock = socket(SOCK.STREAM);
    bindUnix(this.lsock, path);
    listen(this.lsock, 8);
  }

  /** Accept, read and answer whatever is ready now (never blocks). */
  pump(): void {
    while (poll([{ fd: this.lsock, events: POLL.IN }], 0)[0]) this.pending.push(accept(this.lsock));
    for (const conn of [...this.pending]) {
      const [rev] = poll([{ fd: conn, events: POLL.IN }], 0);
      if (!rev) continue; // connected, nothing sent yet (runts's init connects at create, sends at start)
      this.pending.splice(this.pending.indexOf(conn), 1);
      const { data, fd } = recvFd(conn, 65536);
      close(conn);
      if (data.length === 0 && fd === null) continue; // closed without a message
      let fdKind: string | null = null;
      if (fd !== null) {
        fdKind = fs.readlinkSync(`/proc/self/fd/${fd}`);
        this.listeners.push(fd);
      }
      this.messages.push({ msg: JSON.parse(data.toString()), fdKind });
    }
    for (const fd of [...this.listeners]) {
      for (;;) {
        const [rev] = poll([{ fd, events: POLL.IN }], 0);
        if (!rev) break;
        if (rev & (POLL.HUP | POLL.ERR)) { // no task uses this filter any more
          close(fd);
          this.listeners.splice(this.listeners.indexOf(fd), 1);
          break;
        }
        const req = Buffer.alloc(80);
        try { ioctl(fd, NOTIF_RECV, 'void *', req, 'SECCOMP_IOCTL_NOTIF_RECV'); } catch { continue; } // the task went away
        this.syscalls.push(req.readInt32LE(16));
        const resp = Buffer.alloc(24); // val 0, error 0, flags 0: success
        req.copy(resp, 0, 0, 8); // id
        try { ioctl(fd, NOTIF_SEND, 'void *', resp, 'SECCOMP_IOCTL_NOTIF_SEND'); } catch { /* task gone */ }
      }
    }
  }

  /** Connections accepted that never sent their message. */
  silentConnections(): number { return this.pending.length; }

  close(): void {
    for (const fd of [...this.pending, ...this.listeners, this.lsock]) { try { close(fd); } catch { /* closed */ } }
    this.pending = [];
    this.listeners = [];
    fs.rmSync(this.path, { force: true });
  }
}
