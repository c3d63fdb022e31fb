/**
 * The library (src/api, `import { Runtime } from 'runts'`), as root with
 * real containers: the README's example run as written (ESM, through the
 * package's "exports"), require('runts'), and every operation with its
 * typed results and errors.
 */
import t from 'tap';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
// the package by its name, as a user imports it (package.json "exports" -> dist/api.cjs here)
import { ConfigError, type Process, Runtime, RuntsError } from 'runts';
import { cannotRunContainers, uniqueId } from '../helpers/cli.js';
import { makeBundle } from '../helpers/runts.js';
import { hostMountsUnder, tmpdir } from '../helpers/rootfs.js';

const REPO = path.resolve(__dirname, '../..');
const why = cannotRunContainers();

/** The README's "Using runts from Node" example, as written. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const m = /## Using runts from Node\n\n```js\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README.md has no "Using runts from Node" example');
  return m[1]!;
}

/** A directory whose node_modules/runts is this package, as after `npm install runts`. */
function projectDir(): string {
  const dir = tmpdir('api-project-');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(REPO, path.join(dir, 'node_modules/runts'));
  return dir;
}

function containersUnder(root: string): string[] {
  return fs.existsSync(root) ? fs.readdirSync(root).filter((f) => !f.startsWith('.')) : [];
}

t.test('the README example runs as written', { skip: why }, async (t) => {
  const root = tmpdir('api-root-');
  const job = makeBundle({ args: ['/bin/sh', '-c', 'echo job-output; exit 3'] });
  const web = makeBundle({ args: ['/bin/sleep', '1000'] });
  const code = readmeExample()
    .replaceAll("'/run/runts'", JSON.stringify(root))
    .replaceAll("'/srv/bundles/job'", JSON.stringify(job))
    .replaceAll("'/srv/bundles/web'", JSON.stringify(web));
  t.not(code, readmeExample(), 'the example\'s paths were replaced');
  const dir = projectDir();
  fs.writeFileSync(path.join(dir, 'example.mjs'), `${code}\nconsole.log('exitCode=' + exitCode);\n`);
  const r = spawnSync(process.execPath, ['example.mjs'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, `node example.mjs: ${r.stderr}`);
  const lines = r.stdout.split('\n');
  t.ok(lines.includes('job-output'), 'run: the container wrote to the inherited stdout');
  t.ok(lines.includes('exitCode=3'), 'run: resolved to the container\'s exit status');
  t.ok(lines.includes('running'), 'state: running after start');
  t.ok(lines.some((l) => l.startsWith('stats ')), 'events: a stats event');
  t.same(containersUnder(root), [], 'run and delete left no container');
});

t.test("require('runts') gives the same API", { skip: why }, async (t) => {
  const dir = projectDir();
  const root = tmpdir('api-root-');
  fs.writeFileSync(path.join(dir, 'cjs.cjs'), `const runts = require('runts');
new runts.Runtime({ root: ${JSON.stringify(root)} }).list().then((l) => console.log(JSON.stringify({ list: l, classes: [typeof runts.RuntsError, typeof runts.SyscallError, typeof runts.ConfigError], oci: runts.OCI_VERSION })));
`);
  const r = spawnSync(process.execPath, ['cjs.cjs'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { list: [], classes: ['function', 'function', 'function'], oci: '1.3.0' });
});

t.test('the declarations type-check a user of the API', { skip: fs.existsSync(path.join(REPO, 'dist/types/api/index.d.ts')) ? false : 'dist/types not built' }, async (t) => {
  const dir = projectDir();
  fs.writeFileSync(path.join(dir, 'use.ts'), `import { Runtime, RuntsError, type State, type Spec } from 'runts';
const rt = new Runtime({ root: '/tmp/x' });
export async function f(spec: Spec): Promise<number> {
  const s: State = await rt.state('a');
  const { exitCode } = await rt.run('b', { bundle: '/b', stdio: 'pipe' });
  try { await rt.delete('c', { force: true }); } catch (e) { if (e instanceof RuntsError) return e.errno === 'ENOENT' ? 1 : 2; }
  return s.pid ?? exitCode + spec.ociVersion.length;
}
`);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], typeRoots: [path.join(REPO, 'node_modules/@types')] }, files: ['use.ts'] }));
  // through env -i: not with the test runner's loaders (tsc is an ES module they cannot require)
  const tsc = (): SpawnSyncReturns<string> => spawnSync('env', ['-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, path.join(REPO, 'node_modules/.bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  const r = tsc();
  t.equal(r.status, 0, `tsc: ${r.stdout}${r.stderr}`);
  // and a misuse is an error
  fs.writeFileSync(path.join(dir, 'use.ts'), `import { Runtime } from 'runts';\nnew Runtime({ root: 1 });\n`);
  const bad = tsc();
  t.match(bad.stdout, /use\.ts\(2,/, 'reported at the misuse');
  t.not(bad.status, 0, 'a wrong option type is a type error');
});

t.test('every operation, typed', { skip: why }, async (t) => {
  const root = tmpdir('api-root-');
  const rt = new Runtime({ root });
  const id = uniqueId('api');
  t.teardown(async () => { await rt.delete(id, { force: true }).catch(() => {}); });

  await t.test('errors are typed', async (t) => {
    const bad = makeBundle({ mutate: (c) => { c.linux.namespaces = [{ type: 'bogus' }]; } });
    const e = await rt.create(uniqueId('api-bad'), { bundle: bad }).catch((x: unknown) => x);
    t.ok(e instanceof ConfigError, `create with a bad config: ConfigError (${e})`);
    t.equal((e as ConfigError).pointer, '/linux/namespaces/0/type');
    const missing = await rt.state('no-such-container').catch((x: unknown) => x);
    t.ok(missing instanceof RuntsError, 'state of a missing container: RuntsError');
    t.equal((missing as RuntsError).errno, 'ENOENT');
    const del = await rt.delete('no-such-container').catch((x: unknown) => x);
    t.ok(del instanceof RuntsError, 'delete (through the CLI) of a missing container: RuntsError');
    t.equal((del as RuntsError).errno, 'ENOENT', 'with its errno');
    t.same(containersUnder(root), [], 'the failed create left nothing');
  });

  const bundle = makeBundle({ args: ['/bin/sleep', '1000'] });
  await rt.create(id, { bundle });
  let st = await rt.state(id);
  t.equal(st.status, 'created');
  t.equal(st.bundle, bundle);
  t.ok(st.pid! > 0, 'the init pid');
  await rt.start(id);
  t.equal((await rt.state(id)).status, 'running');
  t.same((await rt.list()).map((s) => [s.id, s.status]), [[id, 'running']], 'list');

  const proc: Process = { args: ['/bin/sh', '-c', 'echo out-$((6*7)); echo err >&2; exit 5'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] };
  const ex = await rt.exec(id, proc, { stdio: 'pipe' });
  t.equal(ex.exitCode, 5, 'exec: the process\'s exit status');
  t.equal(ex.stdout?.toString(), 'out-42\n', 'exec: its stdout collected');
  t.equal(ex.stderr?.toString(), 'err\n', 'exec: its stderr collected');
  const streamed = new PassThrough();
  const chunks: Buffer[] = [];
  streamed.on('data', (b: Buffer) => chunks.push(b));
  await rt.exec(id, { ...proc, args: ['/bin/echo', 'streamed'] }, { stdio: ['ignore', 'pipe', 'pipe'], stdout: streamed });
  t.equal(Buffer.concat(chunks).toString(), 'streamed\n', 'exec: stdout streamed');

  await rt.pause(id);
  t.equal((await rt.state(id)).status, 'paused', 'pause (in process)');
  await rt.resume(id);
  t.equal((await rt.state(id)).status, 'running', 'resume');

  const pid = (await rt.state(id)).pid!;
  const pidsLine = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /^\d+:([^:]*,)?pids(,[^:]*)?:/.test(l));
  if (pidsLine) {
    await rt.update(id, { pids: { limit: 77 } });
    const cg = pidsLine.split(':').slice(2).join(':');
    t.equal(fs.readFileSync(`/sys/fs/cgroup/pids${cg}/pids.max`, 'utf8').trim(), '77', 'update: the kernel has the new pids limit');
  } else {
    t.comment('no v1 pids controller for the container: update checked by its call only');
    await rt.update(id, { pids: { limit: 77 } });
  }
  const stats = await rt.stats(id);
  t.equal(stats.type, 'stats');
  t.equal(stats.id, id);
  const events = [];
  for await (const ev of rt.events(id, { interval: '200ms' })) {
    events.push(ev);
    if (events.length === 2) break;
  }
  t.same(events.map((e) => e.type), ['stats', 'stats'], 'events: an async iterator, left after two');

  const updateErr = await rt.update(id, { pids: { limit: 'many' } } as never).catch((x: unknown) => x);
  t.ok(updateErr instanceof RuntsError, `update with a bad value: RuntsError (${updateErr})`);

  await rt.kill(id, 'SIGKILL');
  for (let i = 0; i < 100 && (await rt.state(id)).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
  st = await rt.state(id);
  t.equal(st.status, 'stopped', 'kill');
  await rt.delete(id);
  t.same(await rt.list(), [], 'delete');

  await t.test('create: the container\'s stdio is the one given', async (t) => {
    const out = path.join(tmpdir('api-out-'), 'out');
    const fd = fs.openSync(out, 'w');
    const cid = uniqueId('api-stdio');
    try {
      await rt.create(cid, { bundle: makeBundle({ args: ['/bin/sh', '-c', 'echo to-the-fd'] }), stdio: ['ignore', fd, fd] });
    } finally {
      fs.closeSync(fd);
    }
    await rt.start(cid);
    for (let i = 0; i < 100 && (await rt.state(cid)).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
    t.equal(fs.readFileSync(out, 'utf8'), 'to-the-fd\n');
    await rt.delete(cid);
  });

  await t.test('run: exit status, output, keep, signals', async (t) => {
    const b = makeBundle({ args: ['/bin/sh', '-c', 'echo ran; exit 7'] });
    const r = await rt.run(uniqueId('api-run'), { bundle: b, stdio: ['ignore', 'pipe', 'pipe'] });
    t.equal(r.exitCode, 7);
    t.equal(r.stdout?.toString(), 'ran\n');
    const keepId = uniqueId('api-keep');
    await rt.run(keepId, { bundle: b, stdio: 'ignore', keep: true });
    t.equal((await rt.state(keepId)).status, 'stopped', 'keep: the stopped container stays');
    await rt.delete(keepId);
    const ac = new AbortController();
    // the container's pid 1 has no default signal actions: it traps TERM
    const long = makeBundle({ args: ['/bin/sh', '-c', 'trap "exit 143" TERM; sleep 1000 & wait'] });
    const running = rt.run(uniqueId('api-abort'), { bundle: long, stdio: 'ignore', signal: ac.signal });
    for (let i = 0; i < 200 && !(await rt.list()).some((s) => s.status === 'running'); i++) await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    t.equal((await running).exitCode, 128 + 15, 'abort: SIGTERM forwarded to the container (128+15)');
    t.same(await rt.list(), [], 'nothing left');
  });
  t.same(hostMountsUnder(root), [], 'no mounts left under the root');
});
