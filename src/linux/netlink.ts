/**
 * rtnetlink, just enough to bring the loopback interface up in a network
 * namespace the container creates (runc and crun do the same; a joined
 * namespace is left as it is). One RTM_NEWLINK request for `lo` with IFF_UP
 * set in the change mask, then the kernel's NLMSG_ERROR acknowledgement.
 */
import { RuntsError, SyscallError } from '../common/errors.js';
import * as libc from './libc.js';
import { AF_NETLINK, SOCK } from './abi.js';

const NETLINK_ROUTE = 0;
const RTM_NEWLINK = 16;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const IFLA_IFNAME = 3;
export const IFF_UP = 0x1;

const align4 = (n: number) => (n + 3) & ~3;

/**
 * The request: nlmsghdr (16) + ifinfomsg (16) + IFLA_IFNAME attribute. The
 * interface is named, not numbered (index 0 = look up by IFLA_IFNAME).
 */
export function linkUpRequest(ifname: string, seq: number): Buffer {
  const name = Buffer.from(`${ifname}\0`);
  if (name.length > 16) throw new RuntsError(`interface name too long: ${ifname}`);
  const attrLen = 4 + name.length;
  const total = 16 + 16 + align4(attrLen);
  const b = Buffer.alloc(total);
  b.writeUInt32LE(total, 0); // nlmsg_len
  b.writeUInt16LE(RTM_NEWLINK, 4); // nlmsg_type
  b.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK, 6); // nlmsg_flags
  b.writeUInt32LE(seq >>> 0, 8); // nlmsg_seq
  b.writeUInt32LE(0, 12); // nlmsg_pid
  // ifinfomsg: family AF_UNSPEC, type 0, index 0, flags IFF_UP, change IFF_UP
  b.writeInt32LE(0, 20);
  b.writeUInt32LE(IFF_UP, 24);
  b.writeUInt32LE(IFF_UP, 28);
  b.writeUInt16LE(attrLen, 32);
  b.writeUInt16LE(IFLA_IFNAME, 34);
  name.copy(b, 36);
  return b;
}

/** The errno of the NLMSG_ERROR answering `seq` (0 = acknowledged), or null if `reply` holds none. */
export function ackErrno(reply: Buffer, seq: number): number | null {
  let off = 0;
  while (off + 16 <= reply.length) {
    const len = reply.readUInt32LE(off);
    if (len < 16 || off + len > reply.length) break;
    if (reply.readUInt16LE(off + 4) === NLMSG_ERROR && reply.readUInt32LE(off + 8) === seq >>> 0 && len >= 20) {
      return -reply.readInt32LE(off + 16);
    }
    off += align4(len);
  }
  return null;
}

/** Set `ifname` (default lo) up in the calling thread's network namespace. */
export function setLinkUp(ifname = 'lo'): void {
  const op = `netlink RTM_NEWLINK ${ifname} up`;
  const fd = libc.socketIn(AF_NETLINK, SOCK.RAW | SOCK.CLOEXEC, NETLINK_ROUTE, 'socket(AF_NETLINK)');
  try {
    const seq = 1;
    libc.write(fd, linkUpRequest(ifname, seq));
    const buf = Buffer.alloc(8192);
    for (;;) {
      const n = libc.read(fd, buf);
      if (n <= 0) throw new RuntsError(`${op}: no acknowledgement from the kernel`, { op });
      const e = ackErrno(buf.subarray(0, n), seq);
      if (e === null) continue;
      if (e !== 0) throw new SyscallError(op, e, ifname);
      return;
    }
  } finally {
    libc.close(fd);
  }
}
