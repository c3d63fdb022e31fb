/**
 * process.cwd that the container's user cannot enter but root can (issue 12): runc enters it while still
 * privileged, so the process starts there; runts used to switch user first and fail `chdir: EACCES`. A cwd
 * that does not exist is made by create (0755, as runc does), and `exec --user` into one fails with a clear
 * error naming it. Differential with runc 1.1.5.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { cannotRunContainers, RUNC } from '../helpers/cli.js';
import { tmpdir } from '../helpers/rootfs.js';
import { makeBundle, RUNTS, uniqueId } from '../helpers/runts.js';
import { runWithFiles } from '../helpers/run-files.js';

const why = cannotRunContainers();
if (why) {
  t.plan(0, why);
  process.exit(0);
}
const runc = RUNC;
const runtimes: [string, string][] = [['runts', RUNTS], ...(runc ? [['runc', runc] as [string, string]] : [])];

const host = tmpdir('runts-cwd-');
fs.chmodSync(host, 0o755);
fs.mkdirSync(path.join(host, 'private'), { mode: 0o700 });
t.teardown(() => fs.rmSync(host, { recursive: true, force: true }));

function bundle(args: string[], cwd: string): string {
  return makeBundle({
    args,
    mutate: (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.cwd = cwd;
      c.mounts.push({ destination: '/w', type: 'bind', source: host, options: ['rbind', 'rw'] });
    },
  });
}

function cli(bin: string, root: string, args: string[]) {
  // through files, not pipes: a detached container keeps its stdio open
  const r = runWithFiles(bin, ['--root', root, ...args]);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

for (const [name, bin] of runtimes) {
  t.test(`${name}: a cwd only root can enter`, async (t) => {
    const root = tmpdir('runts-cwd-root-');
    t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
    const r = cli(bin, root, ['run', '--bundle', bundle(['sh', '-c', 'pwd; id -u; ls . >/dev/null 2>&1 || echo unreadable'], '/w/private'), uniqueId('cwd')]);
    t.equal(r.code, 0, `runs: ${r.err}`);
    t.equal(r.out, '/w/private\n1000\nunreadable\n', 'starts in the directory, as uid 1000, which cannot read it');

    const made = `made-by-${name}`;
    const missing = cli(bin, root, ['run', '--bundle', bundle(['pwd'], `/w/${made}/sub`), uniqueId('cwd')]);
    t.equal(missing.code, 0, `a cwd that does not exist is made: ${missing.err}`);
    t.equal(missing.out, `/w/${made}/sub\n`);
    t.equal(fs.statSync(path.join(host, made, 'sub')).mode & 0o7777, 0o755, 'mode 0755');
    t.equal(fs.statSync(path.join(host, made, 'sub')).uid, 0, 'owned by root');

    // exec --user into a running container, with a cwd that does not exist
    const id = uniqueId('cwdx');
    t.equal(cli(bin, root, ['run', '-d', '--bundle', bundle(['sleep', '30'], '/'), id]).code, 0, 'run -d');
    const ok = cli(bin, root, ['exec', '--user', '1000:1000', '--cwd', '/w/private', id, 'pwd']);
    t.equal(ok.code, 0, `exec --user into a root-only cwd: ${ok.err}`);
    t.equal(ok.out, '/w/private\n');
    const bad = cli(bin, root, ['exec', '--user', '1000:1000', '--cwd', '/w/missing', id, 'pwd']);
    t.not(bad.code, 0, 'exec into a missing cwd fails');
    t.match(bad.err, /\/w\/missing/, 'naming it');
    if (name === 'runts') t.match(bad.err, /chdir to cwd \("\/w\/missing"\) set in config.json failed: chdir \/w\/missing: ENOENT/, 'with the errno name');
    cli(bin, root, ['delete', '--force', id]);
  });
}
