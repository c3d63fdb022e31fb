/** The rtnetlink request that sets lo up, and the parsing of the kernel's acknowledgement. */
import t from 'tap';
import { ackErrno, IFF_UP, linkUpRequest } from '../../src/linux/netlink.js';

t.test('RTM_NEWLINK request for lo', async (t) => {
  const b = linkUpRequest('lo', 7);
  t.equal(b.length, 40, 'nlmsghdr 16 + ifinfomsg 16 + IFLA_IFNAME "lo\\0" padded to 8');
  t.equal(b.readUInt32LE(0), 40, 'nlmsg_len');
  t.equal(b.readUInt16LE(4), 16, 'RTM_NEWLINK');
  t.equal(b.readUInt16LE(6), 0x5, 'NLM_F_REQUEST|NLM_F_ACK');
  t.equal(b.readUInt32LE(8), 7, 'seq');
  t.equal(b.readInt32LE(20), 0, 'index 0: by name');
  t.equal(b.readUInt32LE(24), IFF_UP, 'flags IFF_UP');
  t.equal(b.readUInt32LE(28), IFF_UP, 'change mask IFF_UP only');
  t.equal(b.readUInt16LE(32), 7, 'rta_len 4 + "lo\\0"');
  t.equal(b.readUInt16LE(34), 3, 'IFLA_IFNAME');
  t.equal(b.subarray(36, 39).toString(), 'lo\0');
  t.throws(() => linkUpRequest('x'.repeat(16), 1), /too long/);
});

t.test('NLMSG_ERROR acknowledgement', async (t) => {
  const ack = (seq: number, err: number) => {
    const b = Buffer.alloc(36);
    b.writeUInt32LE(36, 0); b.writeUInt16LE(2, 4); b.writeUInt32LE(seq, 8); b.writeInt32LE(err, 16);
    return b;
  };
  t.equal(ackErrno(ack(1, 0), 1), 0, 'ack');
  t.equal(ackErrno(ack(1, -1), 1), 1, 'EPERM');
  t.equal(ackErrno(ack(2, 0), 1), null, 'another sequence number');
  t.equal(ackErrno(Buffer.alloc(8), 1), null, 'truncated');
  t.equal(ackErrno(Buffer.concat([ack(9, 0), ack(1, -19)]), 1), 19, 'second message');
});
