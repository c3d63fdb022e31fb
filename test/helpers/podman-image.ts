/**
 * A busybox image built by podman from the host's static busybox (FROM
 * scratch, no registry), in private podman storage (--root/--runroot in a
 * temp dir, vfs driver) and exported both ways: `podman save --format
 * oci-dir` and `skopeo copy containers-storage:... oci:DIR:test`. Layer 2
 * deletes a file (a whiteout) and deletes and recreates a directory (an
 * opaque dir); it adds a hard link, a fifo, a setuid file and
 * files owned by a user. Call why() first: it names what is missing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { have } from './cli.js';
import { hostMountsUnder, tmpdir } from './rootfs.js';

export const IMAGE = 'localhost/runts-image-test:test';

export function why(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const c of ['podman', 'skopeo', 'umoci']) if (!have(c)) return `${c} is not installed (apt-get install ${c})`;
  if (!fs.existsSync('/bin/busybox')) return 'needs busybox-static';
  return false;
}

const CONTAINERFILE = `FROM scratch
COPY rootfs/ /
RUN rm /bin/vi && rm -rf /etc/opq && mkdir /etc/opq && echo new > /etc/opq/new \\
 && ln /etc/hello /etc/hello-link && mkfifo /etc/fifo \\
 && chown 1000:1000 /etc/opq/new && chmod 4755 /etc/opq/new && mkdir -p /home/app && chown app:app /home/app \\
 && echo data > /home/app/file && chown 1000:2000 /home/app/file && chmod 640 /home/app/file && ln -s ../etc/hello /home/app/link
USER app
WORKDIR /home/app
CMD ["sh", "-c", "id; pwd; cat /etc/opq/new"]
`;

export interface BuiltImage {
  work: string;
  /** podman save --format oci-dir (ref name "localhost/runts-image-test:test"). */
  podmanLayout: string;
  /** skopeo copy to oci:DIR:test (ref name "test"). */
  skopeoLayout: string;
  cleanup(): void;
}

function run(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
}

export function buildBusyboxImage(): BuiltImage {
  const work = tmpdir('image-podman-');
  const ctx = path.join(work, 'ctx');
  const rootfs = path.join(ctx, 'rootfs');
  for (const d of ['bin', 'etc/opq', 'etc/keep', 'tmp']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
  fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  for (const a of ['sh', 'ls', 'cat', 'echo', 'rm', 'mkdir', 'ln', 'mkfifo', 'mknod', 'chown', 'chmod', 'vi', 'id', 'true', 'pwd', 'touch', 'test']) {
    fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  }
  fs.writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  fs.writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n');
  fs.writeFileSync(path.join(rootfs, 'etc/opq/old'), 'old\n');
  fs.writeFileSync(path.join(rootfs, 'etc/hello'), 'hello\n');
  fs.writeFileSync(path.join(rootfs, 'etc/keep/k'), 'k\n');
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.writeFileSync(path.join(ctx, 'Containerfile'), CONTAINERFILE);
  const storage = path.join(work, 'storage');
  const runroot = path.join(work, 'run');
  const podman = ['--root', storage, '--runroot', runroot, '--storage-driver', 'vfs'];
  run('podman', [...podman, 'build', '--isolation', 'chroot', '--network', 'host', '-t', IMAGE, '.'], ctx);
  const podmanLayout = path.join(work, 'oci-podman');
  run('podman', [...podman, 'save', '--format', 'oci-dir', '-o', podmanLayout, IMAGE]);
  const skopeoLayout = path.join(work, 'oci-skopeo');
  run('skopeo', ['copy', '-q', `containers-storage:[vfs@${storage}+${runroot}]${IMAGE}`, `oci:${skopeoLayout}:test`]);
  return {
    work, podmanLayout, skopeoLayout,
    cleanup() {
      spawnSync('podman', [...podman, 'rmi', '-a', '-f'], { timeout: 60_000 });
      if (hostMountsUnder(work).length === 0) fs.rmSync(work, { recursive: true, force: true });
    },
  };
}
