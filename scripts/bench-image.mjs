// The image row of `npm run bench`: `runts image unpack` against `umoci unpack` of the same
// OCI layout (two gzip layers: busybox, then a data layer of ~2,000 files, ~32 MiB, half of
// every file random), interleaved rounds, medians in ms. Called by scripts/bench.mjs.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const sha = (b) => createHash('sha256').update(b).digest('hex');

function layer(dir, out) {
  const r = spawnSync('tar', ['--format=posix', '--numeric-owner', '--sort=name', '-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  const gz = gzipSync(r.stdout, { level: 6 });
  writeFileSync(join(out, 'blobs/sha256', sha(gz)), gz);
  return { desc: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(gz)}`, size: gz.length }, diffId: `sha256:${sha(r.stdout)}` };
}

function blob(out, obj) {
  const b = Buffer.from(JSON.stringify(obj));
  writeFileSync(join(out, 'blobs/sha256', sha(b)), b);
  return { digest: `sha256:${sha(b)}`, size: b.length };
}

/** The layout, in work/bench-image/oci. */
export function makeBenchImage(work) {
  const base = join(work, 'bench-image');
  const l1 = join(base, 'l1');
  const l2 = join(base, 'l2');
  const out = join(base, 'oci');
  mkdirSync(join(l1, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(l1, 'bin/busybox'));
  chmodSync(join(l1, 'bin/busybox'), 0o755);
  for (const a of ['sh', 'true', 'ls', 'cat']) symlinkSync('busybox', join(l1, 'bin', a));
  for (let d = 0; d < 200; d++) {
    const dir = join(l2, 'data', `d${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 10; f++) writeFileSync(join(dir, `f${f}`), Buffer.concat([randomBytes(8192), Buffer.alloc(8192)]));
  }
  mkdirSync(join(out, 'blobs/sha256'), { recursive: true });
  writeFileSync(join(out, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const layers = [layer(l1, out), layer(l2, out)];
  // two images: "bench" (both layers) and "small" (busybox alone)
  const manifests = [['bench', layers], ['small', layers.slice(0, 1)]].map(([ref, ls]) => {
    const config = blob(out, { architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: ls.map((l) => l.diffId) } });
    const manifest = blob(out, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: ls.map((l) => l.desc) });
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': ref } };
  });
  writeFileSync(join(out, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  rmSync(l1, { recursive: true });
  rmSync(l2, { recursive: true });
  return { layout: out, base, bytes: layers.reduce((a, l) => a + l.desc.size, 0), smallBytes: layers[0].desc.size };
}

/** Rows for the README's table: runts image unpack, umoci unpack, and their ratio. */
export function benchImage(work, runts, rounds, env) {
  const umoci = spawnSync('sh', ['-c', 'command -v umoci'], { encoding: 'utf8' }).stdout.trim();
  if (!umoci) return '(umoci is not installed: apt-get install umoci to compare image unpacking)';
  const { layout, base, bytes, smallBytes } = makeBenchImage(work);
  // CPU time of the waited-for children (user + system, /proc/self/stat cutime + cstime, 100 Hz ticks)
  const childCpu = () => {
    const s = readFileSync('/proc/self/stat', 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) * 10;
  };
  const time = (argv, cpu) => {
    const c0 = childCpu();
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    cpu.push(childCpu() - c0);
    return ms;
  };
  const measure = (ref) => {
    const t = { runts: [], umoci: [], runtsCpu: [], umociCpu: [] };
    for (let i = -1; i < rounds; i++) {
      const a = join(base, `runts-${i}`);
      const b = join(base, `umoci-${i}`);
      // alternate which goes first: the second finds the blobs in the page cache and the disk busier
      const u = () => time([umoci, 'unpack', '--image', `${layout}:${ref}`, b], t.umociCpu);
      const first = i % 2 === 0;
      const y0 = first ? 0 : u();
      const x = time([runts, 'image', 'unpack', `${layout}:${ref}`, a], t.runtsCpu);
      const y = first ? u() : y0;
      if (i >= 0) { t.runts.push(x); t.umoci.push(y); } else { t.runtsCpu.pop(); t.umociCpu.pop(); }
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
    return t;
  };
  const big = measure('bench');
  const small = measure('small');
  rmSync(base, { recursive: true, force: true });
  const q = (xs, p) => { const s = [...xs].sort((m, n) => m - n); return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))]; };
  const cell = (xs) => `${q(xs, 0.5).toFixed(1)} (${q(xs, 0.25).toFixed(0)}–${q(xs, 0.75).toFixed(0)})`;
  const ratio = (a, b) => {
    const r = a.map((v, i) => v / b[i]);
    return `${q(r, 0.5).toFixed(2)}× (${q(r, 0.25).toFixed(2)}–${q(r, 0.75).toFixed(2)})`;
  };
  const rows = (what, t) => [
    `| ${what}: wall, ms | ${cell(t.runts)} | ${cell(t.umoci)} | ${ratio(t.runts, t.umoci)} |`,
    `| ${what}: CPU (user + system), ms | ${cell(t.runtsCpu)} | ${cell(t.umociCpu)} | ${ratio(t.runtsCpu, t.umociCpu)} |`,
  ];
  return [
    '| image unpack | runts | umoci | runts / umoci |',
    '|---|---|---|---|',
    ...rows(`2 gzip layers, 2,000 files, ${(bytes / 2 ** 20).toFixed(1)} MiB compressed`, big),
    ...rows(`busybox alone, 1 layer, ${(smallBytes / 2 ** 20).toFixed(1)} MiB`, small),
    '',
    `Medians of ${rounds} interleaved rounds (runts image unpack and umoci unpack of the same layout into fresh bundles, each first in every other round), interquartile range in parentheses; a ratio is the median of the per-round ratios. runts's times include node's start.`,
  ].join('\n');
}
