/**
 * dist/runts.cjs, the CLI's first stage (src/cli/entry.ts, quick.ts): `state`
 * and `list` are answered without loading the CLI bundle, with exactly the
 * CLI's output; everything else (errors, help, other commands) is the CLI's,
 * as before. A fake state root: records whose init is this test's own
 * process (alive: running, or created with an init.sock) or a pid that is
 * gone (stopped). Needs a build (npm ci / node scripts/build.mjs), no root.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';

const RUNTS = path.resolve(__dirname, '../../dist/runts.cjs');
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
// preloaded: says on fd 3 whether the process loaded the CLI bundle (the loader runs it through node:vm)
const probe = path.join(os.tmpdir(), `runts-first-stage-probe-${process.pid}.cjs`);

function startTime(pid: number): string {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ')[19]!;
}

function record(root: string, id: string, init: { pid: number; startTime: string }, extra: Record<string, unknown> = {}): void {
  fs.mkdirSync(path.join(root, id), { recursive: true });
  const rec = {
    id, ociVersion: '1.0.2', bundle: `/b/${id}`, rootfs: `/b/${id}/rootfs`, created: '2026-01-01T00:00:00.000Z', owner: 'root',
    annotations: { 'org.example': id }, phase: 'created', creator: init, init, pidns: true, ...extra,
  };
  fs.writeFileSync(path.join(root, id, 'state.json'), JSON.stringify(rec));
}

function runts(args: string[]): { status: number | null; stdout: string; stderr: string; cli: boolean } {
  const r = spawnSync(process.execPath, ['-r', probe, RUNTS, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, cli: String(r.output[3]) === 'cli' };
}

t.before(() => {
  fs.writeFileSync(probe, "process.on('exit', () => require('fs').writeSync(3, process.moduleLoadList.includes('NativeModule vm') ? 'cli' : 'first'));\n");
});
t.teardown(() => fs.rmSync(probe, { force: true }));

t.test('state and list: the first stage answers, with the CLI\'s exact output', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-first-stage-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const me = { pid: process.pid, startTime: startTime(process.pid) };
  record(root, 'running', me);
  record(root, 'created', me);
  fs.writeFileSync(path.join(root, 'created', 'init.sock'), '');
  record(root, 'stopped', { pid: me.pid, startTime: '1' }); // same pid, another start time: not this process
  fs.mkdirSync(path.join(root, '.new-x-abcdef')); // a create in progress: not listed

  const cases = [['state', 'running'], ['state', 'created'], ['state', 'stopped'], ['list'], ['list', '-q'], ['list', '--format', 'json'], ['list', '--format=table']];
  for (const args of cases) {
    const quick = runts(['--root', root, '--log-format', 'json', ...args]);
    t.equal(quick.status, 0, `${args.join(' ')}: exit 0`);
    t.notOk(quick.cli, `${args.join(' ')}: answered without the CLI bundle`);
    t.equal(quick.stderr, '');
    // --debug is left to the CLI: the same command through it
    const full = runts(['--root', root, '--debug', ...args]);
    t.ok(full.cli, `${args.join(' ')} --debug: the CLI`);
    t.equal(quick.stdout, full.stdout, `${args.join(' ')}: the CLI's output`);
  }
  t.match(JSON.parse(runts(['--root', root, 'state', 'created']).stdout), { id: 'created', status: 'created', pid: process.pid, annotations: { 'org.example': 'created' } });
  t.match(JSON.parse(runts(['--root', root, 'state', 'stopped']).stdout), { status: 'stopped', pid: 0 });
  t.same(runts(['--root', root, 'list', '-q']).stdout, 'created\nrunning\nstopped\n');
});

t.test('errors, help and other commands are the CLI\'s', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-first-stage-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'corrupt'));
  fs.writeFileSync(path.join(root, 'corrupt', 'state.json'), '{');
  const cases: [string[], RegExp, number][] = [
    [['state', 'nope'], /container "nope" does not exist/, 1],
    [['state', 'corrupt'], /state of container "corrupt" is corrupt/, 1],
    [['state', '../x'], /invalid container id/, 1],
    [['state'], /"state" requires <container-id>/, 1],
    [['list', 'extra'], /takes at most 0 argument/, 1],
    [['list', '--format', 'yaml'], /must be one of/, 1],
    [['--systemd-cgroup', 'list'], /--systemd-cgroup is not supported/, 1],
    [['kill', 'state'], /container "state" does not exist/, 1],
  ];
  for (const [args, err, code] of cases) {
    const r = runts(['--root', root, ...args]);
    t.equal(r.status, code, `${args.join(' ')}: exit ${code}`);
    t.match(r.stderr, err, `${args.join(' ')}: the CLI's error`);
    t.equal(r.stdout, '', `${args.join(' ')}: nothing on stdout`);
    t.ok(r.cli, `${args.join(' ')}: the CLI ran`);
  }
  const help = runts(['state', '--help']);
  t.equal(help.status, 0);
  t.match(help.stdout, /runts state/);
  t.ok(help.cli);
  const version = runts(['--version']);
  t.match(version.stdout, /^runts version /);
  t.ok(version.cli);
  // a list of a root that does not exist: empty, as the CLI says it
  const none = runts(['--root', path.join(root, 'none'), 'list', '-q']);
  t.equal(none.status, 0);
  t.equal(none.stdout, '');
  t.notOk(none.cli);
});
