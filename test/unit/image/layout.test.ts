import t from 'tap';
import { checkDescriptor, parseConfig, parseManifest, selectManifest, splitImageArg, type Descriptor } from '../../../src/image/layout.js';

const M = 'application/vnd.oci.image.manifest.v1+json';
const I = 'application/vnd.oci.image.index.v1+json';
const d = (n: string, extra: Partial<Descriptor> = {}): Descriptor => ({ mediaType: M, digest: 'sha256:' + n.repeat(64), size: 10, ...extra });
const host = { os: 'linux', architecture: 'amd64' };

t.test('LAYOUT[:REF] splits at the first ":" that ends a layout', async (t) => {
  const layouts = new Set(['/x/oci', 'dir:with:colons']);
  const is = (p: string) => layouts.has(p);
  t.same(splitImageArg('/x/oci', is), { dir: '/x/oci' });
  t.same(splitImageArg('/x/oci:latest', is), { dir: '/x/oci', ref: 'latest' });
  t.same(splitImageArg('/x/oci:localhost/busybox:1.36', is), { dir: '/x/oci', ref: 'localhost/busybox:1.36' });
  t.same(splitImageArg('dir:with:colons:tag', is), { dir: 'dir:with:colons', ref: 'tag' });
  t.same(splitImageArg('/nope:tag', is), { dir: '/nope:tag' });
});

t.test('manifest selection', async (t) => {
  const named = (n: string, ref: string, platform?: Descriptor['platform']) => d(n, { annotations: { 'org.opencontainers.image.ref.name': ref }, platform });
  const none = () => { throw new Error('no nested index here'); };
  t.equal(selectManifest([d('1')], undefined, host, none).digest, d('1').digest, 'a single image needs no ref');
  t.equal(selectManifest([named('1', 'a'), named('2', 'b')], 'b', host, none).digest, d('2').digest);
  t.throws(() => selectManifest([named('1', 'a')], 'zz', host, none), /no image named "zz" \(the layout has: a\)/);
  t.throws(() => selectManifest([named('1', 'a'), named('2', 'b')], undefined, host, none), /name one with LAYOUT:REF/);
  const multi = [d('3', { platform: { os: 'linux', architecture: 'arm64' } }), d('4', { platform: { os: 'linux', architecture: 'amd64' } })];
  t.equal(selectManifest(multi, undefined, host, none).digest, d('4').digest, 'the host platform among several');
  t.equal(selectManifest([named('5', 'multi', undefined)].map((x) => ({ ...x, mediaType: I })), 'multi', host, () => multi).digest, d('4').digest, 'through a nested index');
  t.throws(() => selectManifest([d('3', { platform: { os: 'linux', architecture: 'arm64' } }), d('6', { platform: { os: 'linux', architecture: 's390x' } })], undefined, host, none), /none for linux\/amd64/);
  t.throws(() => selectManifest([d('7', { mediaType: 'application/vnd.example' })], undefined, host, none), /no image manifest/);
});

t.test('descriptors, manifests and configs are checked before use', async (t) => {
  t.throws(() => checkDescriptor({ mediaType: M, digest: 'sha512:' + 'a'.repeat(128), size: 1 }, 'x'), /sha256 only/);
  t.throws(() => checkDescriptor({ mediaType: M, digest: 'sha256:' + 'a'.repeat(64), size: -1 }, 'x'), /bad size/);
  t.throws(() => checkDescriptor({ mediaType: M, digest: 'sha256:../../etc', size: 1 }, 'x'), /bad digest|sha256 only/);
  t.throws(() => parseManifest({ schemaVersion: 1 }, 'm'), /schemaVersion is not 2/);
  t.throws(() => parseManifest({ schemaVersion: 2, config: d('1'), layers: Array(300).fill(d('2')) }, 'm'), /300 layers is over the limit/);
  t.throws(() => parseConfig({ rootfs: { type: 'layers' } }, 'c'), /rootfs must be/);
  t.same(parseConfig({ rootfs: { type: 'layers', diff_ids: [] }, unknown: 1 }, 'c').rootfs.diff_ids, [], 'unknown fields are fine');
});
