import t from 'tap';
import { parseNumeric, parsePax, TarReader, type TarEntry } from '../../../src/image/tar.js';
import { makeTar } from '../../helpers/oci-image.js';

function read(buf: Buffer, chunk = buf.length) {
  const entries: (TarEntry & { body: string })[] = [];
  let cur: (TarEntry & { body: string }) | undefined;
  const r = new TarReader({
    entry: (e) => { cur = { ...e, body: '' }; entries.push(cur); },
    data: (c) => { cur!.body += c.toString(); },
    end: () => { cur = undefined; },
  });
  for (let off = 0; off < buf.length; off += chunk) r.push(buf.subarray(off, off + chunk));
  r.finish();
  return entries;
}

t.test('entries of every type, in any chunking', async (t) => {
  const tar = makeTar([
    { name: 'd/', type: 'dir', mode: 0o755, uid: 1, gid: 2 },
    { name: 'd/f', body: 'hello', mode: 0o4755, mtime: 1234 },
    { name: 'd/l', type: 'symlink', linkname: '../x' },
    { name: 'd/h', type: 'link', linkname: 'd/f' },
    { name: 'c', type: 'char', devmajor: 1, devminor: 3 },
    { name: 'b', type: 'block', devmajor: 7, devminor: 0 },
    { name: 'p', type: 'fifo' },
    { name: 'x'.repeat(150) + '/y'.repeat(60), body: 'long', xattrs: { 'user.a': 'b', 'security.capability': '\x01\x00' } },
  ]);
  for (const chunk of [tar.length, 512, 100, 1]) {
    const es = read(tar, chunk);
    t.same(es.map((e) => e.type), ['dir', 'file', 'symlink', 'link', 'char', 'block', 'fifo', 'file'], `chunk ${chunk}`);
    t.equal(es[1]!.body, 'hello');
    t.equal(es[1]!.mode, 0o4755);
    t.equal(es[1]!.mtime, 1234);
    t.equal(es[0]!.uid, 1);
    t.equal(es[0]!.gid, 2);
    t.equal(es[2]!.linkname, '../x');
    t.same([es[4]!.devmajor, es[4]!.devminor], [1, 3]);
    t.equal(es[7]!.name, 'x'.repeat(150) + '/y'.repeat(60));
    t.equal(es[7]!.body, 'long');
    t.equal(es[7]!.xattrs.get('user.a')!.toString(), 'b');
    t.same([...es[7]!.xattrs.get('security.capability')!], [1, 0]);
  }
});

t.test('GNU long names and base-256 numbers', async (t) => {
  const tar = makeTar([{ name: 'placeholder', body: 'z' }]);
  // rewrite as a GNU 'L' record followed by the entry, with a base-256 uid
  const long = 'n'.repeat(300);
  const L = Buffer.alloc(512);
  L.write('././@LongLink', 0);
  L.write('0000644\0', 100);
  L.write((long.length + 1).toString(8).padStart(11, '0') + '\0', 124);
  L.write('00000000000\0', 136);
  L.write('L', 156);
  L.write('ustar  \0', 257, 'latin1');
  const entry = Buffer.from(tar.subarray(0, 1024));
  entry[108] = 0x80; entry.fill(0, 109, 116); entry[115] = 0x02; // uid 2 in base-256
  for (const h of [L, entry]) {
    h.fill(0x20, 148, 156);
    let s = 0; for (let i = 0; i < 512; i++) s += h[i]!;
    h.write(s.toString(8).padStart(6, '0') + '\0 ', 148);
  }
  const body = Buffer.alloc(512); body.write(long + '\0');
  const es = read(Buffer.concat([L, body, entry, Buffer.alloc(1024)]));
  t.equal(es.length, 1);
  t.equal(es[0]!.name, long);
  t.equal(es[0]!.uid, 2);
});

t.test('damaged archives are clear errors', async (t) => {
  const tar = makeTar([{ name: 'f', body: 'abc' }]);
  const bad = Buffer.from(tar); bad[0] = 0x41;
  t.throws(() => read(bad), /header checksum mismatch/);
  t.throws(() => read(tar.subarray(0, 600)), /unexpected end of archive/);
  const sparse = makeTar([{ name: 'f', body: 'abc' }]);
  sparse[156] = 'S'.charCodeAt(0);
  sparse.fill(0x20, 148, 156); let s = 0; for (let i = 0; i < 512; i++) s += sparse[i]!;
  sparse.write(s.toString(8).padStart(6, '0') + '\0 ', 148);
  t.throws(() => read(sparse), /unsupported entry type "S"/);
  t.throws(() => parseNumeric(Buffer.from('12x4\0'), 'size'), /bad octal/);
  t.throws(() => parsePax(Buffer.from('99 path=x\n')), /malformed pax record/);
  t.throws(() => parsePax(Buffer.from('5 pa\n')), /malformed pax record/);
  // a pax record larger than the limit is refused before it is buffered
  const r = new TarReader({ entry() {}, data() {}, end() {} }, { maxMetaBytes: 10, maxEntrySize: 100 });
  t.throws(() => r.push(makeTar([{ name: 'a'.repeat(200), body: '' }])), /pax header of \d+ bytes is over the limit/);
  const r2 = new TarReader({ entry() {}, data() {}, end() {} }, { maxMetaBytes: 1000, maxEntrySize: 2 });
  t.throws(() => r2.push(makeTar([{ name: 'f', body: 'abc' }])), /over the per-entry limit/);
});

t.test('an archive without end blocks is accepted at an entry boundary; trailing garbage after the end is ignored', async (t) => {
  t.equal(read(makeTar([{ name: 'f', body: 'a' }], { noEnd: true })).length, 1);
  t.equal(read(Buffer.concat([makeTar([{ name: 'f', body: 'a' }]), Buffer.from('garbage')])).length, 1);
});
