/**
 * The packed package, installed as a user installs it (README "Installing"):
 * `npm pack` of this build, `npm install -g --prefix TMP` of the tarball
 * (which builds only nsboot: no devDependencies, no sources), then from the
 * install: `runts --version`, `runts spec` + `runts run` of a busybox bundle,
 * the man pages through `man -M`, the bash completion, the library, the code
 * caches; `npm uninstall -g` removes its links, and everything is removed.
 * Needs root (run), a build (npm ci), npm, and the registry for koffi.
 */
import t from 'tap';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cannotRunContainers, have, uniqueId } from '../helpers/cli.js';
import { makeBusyboxRootfs, tmpdir } from '../helpers/rootfs.js';

const REPO = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string; man: string[] };
const why = cannotRunContainers() || (have('npm') ? false : 'npm is not on PATH');
// this environment (npm needs its CA and proxy settings), without the test runner's loaders (tsx, @tapjs/processinfo):
// commands run through `env -i`, which processinfo does not wrap
const env = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(NODE_OPTIONS|NODE_V8_COVERAGE|_?TAP)/i.test(k))) as Record<string, string>;

function run(cmd: string, args: string[], o: SpawnSyncOptions = {}) {
  return spawnSync('env', ['-i', ...Object.entries({ ...env, ...(o.env ?? {}) }).map(([k, v]) => `${k}=${v}`), cmd, ...args], { encoding: 'utf8', timeout: 600_000, ...o, env: undefined });
}

/** Every file of a directory tree, relative, sorted. */
function files(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = path.join(rel, e.name);
    return e.isDirectory() ? files(dir, r) : [r];
  }).sort();
}

t.test('pack, install globally into a prefix, use, uninstall', { skip: why }, async (t) => {
  const work = tmpdir('install-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const prefix = path.join(work, 'prefix');

  // the build as it is (npm test builds first): --ignore-scripts, or prepare would rebuild dist/ under the other tests
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO });
  t.equal(packed.status, 0, `npm pack: ${packed.stderr}`);
  const info = JSON.parse(packed.stdout as string)[0] as { filename: string; files: { path: string }[]; size: number };
  const shipped = info.files.map((f) => f.path).sort();
  t.comment(`packed: ${shipped.length} files, ${info.size} bytes`);
  for (const p of ['dist/runts.cjs', 'dist/cli.cjs', 'dist/cli.bundle.cjs', 'dist/cli.cache', 'dist/init.cjs', 'dist/init.bundle.cjs', 'dist/init.cache',
    'dist/exec-init.cjs', 'dist/validators.cjs', 'dist/help.cjs', 'dist/api.cjs', 'dist/api.mjs', 'dist/types/api/index.d.ts', 'dist/completion/runts.bash',
    'csrc/nsboot.c', 'binding.gyp', 'package.json']) {
    t.ok(shipped.includes(p), `ships ${p}`);
  }
  for (const m of pkg.man) t.ok(shipped.includes(m.replace(/^\.\//, '')), `ships ${m}`);
  t.same(shipped.filter((p) => /^(src|test|conformance|scripts|schemas|build|node_modules)\//.test(p) || p.endsWith('.ts') && !p.endsWith('.d.ts')), [],
    'no sources, tests, build tree or dependencies');

  const inst = run('npm', ['install', '-g', '--no-audit', '--no-fund', '--prefix', prefix, path.join(work, info.filename)], { cwd: work });
  t.equal(inst.status, 0, `npm install -g: ${inst.stderr}`);
  const home = path.join(prefix, 'lib/node_modules/runts');
  t.ok(fs.existsSync(path.join(home, 'build/Release/nsboot')), 'nsboot was built at install');
  t.notOk(fs.existsSync(path.join(home, 'node_modules/esbuild')) || fs.existsSync(path.join(home, 'node_modules/ajv')), 'no devDependencies installed');
  const runts = path.join(prefix, 'bin/runts');

  const v = run(runts, ['--version']);
  t.equal(v.status, 0);
  t.match(v.stdout, new RegExp(`^runts version ${pkg.version.replace(/\./g, '\\.')}\ncommit: ([0-9a-f]{40}(-dirty)?|unknown)\nspec: 1\\.3\\.0\n$`), 'runc\'s three-line --version');

  // the caches survive packing: V8 accepts them in the installed place (the CLI's side-effect-free parts)
  // (each stub's loader lists what it ran under this symbol: scripts/loader.cjs)
  const script = `const loaded = (globalThis[Symbol.for('runts.codeCacheRun')] = []);
    process.on('exit', () => { process.exitCode = 0; require('fs').writeSync(1, JSON.stringify(Object.fromEntries(loaded.map(([n, s]) => [n, s.cachedDataRejected])))); });
    for (const s of ['validators', 'help']) require(${JSON.stringify(path.join(home, 'dist'))} + '/' + s + '.cjs');`;
  const cache = run(process.execPath, ['-e', script]);
  t.same(JSON.parse(cache.stdout as string), { validators: false, help: false }, 'the installed code caches are accepted');

  // a container, the way the README's "Using it by hand" goes
  const bundle = path.join(work, 'bundle');
  makeBusyboxRootfs(path.join(bundle, 'rootfs'));
  t.equal(run(runts, ['spec'], { cwd: bundle }).status, 0, 'runts spec');
  const cfg = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  cfg.process.terminal = false;
  cfg.process.args = ['/bin/sh', '-c', 'echo installed-runts-ran; exit 4'];
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(cfg));
  const root = path.join(work, 'state');
  const r = run(runts, ['--root', root, 'run', uniqueId('install')], { cwd: bundle });
  t.equal(r.stdout, 'installed-runts-ran\n', `runts run: the container's output (${r.stderr})`);
  t.equal(r.status, 4, 'runts run: the container\'s exit status');
  t.same(fs.readdirSync(root), [], 'run left no container');

  // the library from the installed package
  const lib = run(process.execPath, ['-e', `const { Runtime } = require(${JSON.stringify(home)}); new Runtime({ root: ${JSON.stringify(root)} }).list().then((l) => console.log(JSON.stringify(l)))`]);
  t.equal(lib.stdout, '[]\n', `require of the installed package (${lib.stderr})`);

  // the shipped declarations are complete: a TypeScript user of the installed package type-checks
  const user = path.join(work, 'user');
  fs.mkdirSync(path.join(user, 'node_modules'), { recursive: true });
  fs.symlinkSync(home, path.join(user, 'node_modules/runts'));
  fs.writeFileSync(path.join(user, 'use.ts'), `import { Runtime, ConfigError, SyscallError, type Resources, type State } from 'runts';
export async function f(r: Resources): Promise<number> {
  const rt = new Runtime({ root: '/x' });
  const s: State = await rt.state('a');
  await rt.update('a', r);
  for await (const ev of rt.events('a')) return ev.type.length;
  try { await rt.create('b', { bundle: '/b' }); } catch (e) { if (e instanceof ConfigError) return e.pointer!.length; if (e instanceof SyscallError) return e.code; }
  return (s.pid ?? 0) + (await rt.run('c', { stdio: 'pipe' })).exitCode;
}
`);
  fs.writeFileSync(path.join(user, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], typeRoots: [path.join(REPO, 'node_modules/@types')] }, files: ['use.ts'] }));
  const tsc = run(path.join(REPO, 'node_modules/.bin/tsc'), ['-p', user]);
  t.equal(tsc.status, 0, `tsc against the installed declarations: ${tsc.stdout}${tsc.stderr}`);

  // man pages where man finds them, bash completion loadable
  t.same(files(path.join(prefix, 'share/man')), pkg.man.map((m) => `man8/${path.basename(m)}`).sort(), 'npm linked every page into share/man/man8');
  if (have('man')) {
    const page = run('man', ['-M', path.join(prefix, 'share/man'), '-E', 'ascii', '-P', 'cat', 'runts'], { env: { MANWIDTH: '100' } });
    t.equal(page.status, 0, `man runts: ${page.stderr}`);
    t.match(page.stdout, /runts-create\(8\)/, 'runts(8) names the command pages');
    const exec = run('man', ['-M', path.join(prefix, 'share/man'), '-E', 'ascii', '-P', 'cat', 'runts-exec'], { env: { MANWIDTH: '100' } });
    t.match(exec.stdout, /--preserve-fds N/, 'runts-exec(8) has its flags');
  } else {
    t.comment('man is not installed (apt-get install man-db): the pages were checked as files only');
  }
  const bash = run('bash', ['--norc', '-c', `source ${path.join(home, 'dist/completion/runts.bash')} && complete -p runts`]);
  t.match(bash.stdout, /complete -F _runts runts/, 'the completion loads');

  const un = run('npm', ['uninstall', '-g', '--prefix', prefix, 'runts']);
  t.equal(un.status, 0, `npm uninstall -g: ${un.stderr}`);
  t.notOk(fs.existsSync(runts), 'the runts link is gone');
  t.notOk(fs.existsSync(home), 'the package is gone');
  t.same(fs.existsSync(path.join(prefix, 'share/man/man8')) ? fs.readdirSync(path.join(prefix, 'share/man/man8')) : [], [], 'the man pages are gone');
});
