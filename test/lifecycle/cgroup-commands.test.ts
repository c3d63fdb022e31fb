/**
 * The cgroup commands end to end on real containers: limits from
 * linux.resources, pause/resume, update (flags, -r FILE, -r - on stdin),
 * events (--stats, the stream, OOM), ps (json, table), kill --all, and no
 * cgroup left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { cannotRunContainers } from '../helpers/cli.js';
import { sleepMs, waitFor } from '../helpers/wait.js';
import { tmpdir } from '../helpers/rootfs.js';
import { cleanEnv, findCgroups, makeBundle, RUNTS, Runts, uniqueId, type Result } from '../helpers/runts.js';


const MiB = 1024 * 1024;
const CGROUP_MOUNT = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] };

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /s.test(stat);
  } catch {
    return false;
  }
}

const why = cannotRunContainers();
if (why) {
  t.plan(0, why);
} else if (!fs.existsSync('/sys/fs/cgroup/freezer') && !fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) {
  t.plan(0, 'no cgroup freezer on this host');
} else {
  const rt = new Runts();
  const bundles: string[] = [];
  t.teardown(() => {
    rt.cleanup();
    for (const b of bundles) fs.rmSync(b, { recursive: true, force: true });
  });

  /** runts with stdin (the helper's run() has none). */
  const runIn = (args: string[], input: string | Buffer): Result => {
    const r = spawnSync(RUNTS, ['--root', rt.root, ...args], { input, encoding: 'utf8', timeout: 60_000, env: cleanEnv() });
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };

  const record = (id: string) => JSON.parse(fs.readFileSync(path.join(rt.root, id, 'state.json'), 'utf8')) as {
    init: { pid: number }; cgroup: { mode: string; paths: Record<string, string> };
  };
  const v2 = (id: string) => record(id).cgroup.mode === 'v2';
  /** A cgroup file of the container on the host (v1 controller, or the v2 dir). */
  const cg = (id: string, controller: string, file: string) => {
    const paths = record(id).cgroup.paths;
    const dir = v2(id) ? paths[''] : paths[controller];
    return fs.readFileSync(path.join(dir!, file), 'utf8').trim();
  };
  /** memory limit / swap (v1 memsw semantics) / cpu quota+period / pids.max, whatever the cgroup version. */
  const limits = (id: string) => {
    if (v2(id)) {
      const [quota, period] = cg(id, '', 'cpu.max').split(' ');
      return { memory: cg(id, '', 'memory.max'), quota: quota === 'max' ? '-1' : quota, period, pids: cg(id, '', 'pids.max') };
    }
    return {
      memory: cg(id, 'memory', 'memory.limit_in_bytes'),
      quota: cg(id, 'cpu', 'cpu.cfs_quota_us'),
      period: cg(id, 'cpu', 'cpu.cfs_period_us'),
      pids: cg(id, 'pids', 'pids.max'),
    };
  };

  /** Start a detached container; returns its id and a dir bind-mounted at /out. */
  const detached = (script: string, mutate?: (c: Record<string, any>) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const id = uniqueId('cgc');
    const out = tmpdir('runts-cgc-out-');
    bundles.push(out);
    const bundle = makeBundle({
      args: ['sh', '-c', script],
      mutate: (c) => {
        c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
        mutate?.(c);
      },
    });
    bundles.push(bundle);
    const r = rt.run(['run', '-d', '--bundle', bundle, id]);
    if (r.code !== 0) throw new Error(`run -d ${id}: ${r.stderr}`);
    return { id, out };
  };

  const podmanLimits = (c: Record<string, any>) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    c.mounts.push(CGROUP_MOUNT);
    c.linux.resources = {
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 64 * MiB },
      cpu: { quota: 50000, period: 100000 },
      pids: { limit: 20 },
    };
  };

  t.test('podman-style limits in linux.resources: visible inside the container and on the host', async (t) => {
    const id = uniqueId('cgc-limits');
    const bundle = makeBundle({
      args: ['sh', '-c', [
        'if [ -e /sys/fs/cgroup/cgroup.controllers ]; then',
        '  cat /sys/fs/cgroup/memory.max; cut -d" " -f1 /sys/fs/cgroup/cpu.max; cut -d" " -f2 /sys/fs/cgroup/cpu.max; cat /sys/fs/cgroup/pids.max;',
        'else',
        '  cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/pids/pids.max;',
        'fi',
      ].join(' ')],
      mutate: podmanLimits,
    });
    bundles.push(bundle);
    const r = rt.run(['run', '--bundle', bundle, id]);
    t.equal(r.code, 0, r.stderr);
    t.same(r.stdout.trim().split('\n'), [String(64 * MiB), '50000', '100000', '20'], 'inside: memory, cpu quota, period, pids');

    const c = detached('sleep 1000', podmanLimits);
    t.same(limits(c.id), { memory: String(64 * MiB), quota: '50000', period: '100000', pids: '20' }, 'host cgroup files');
    t.equal(rt.run(['delete', '--force', c.id]).code, 0);
    t.same(findCgroups(c.id), [], 'cgroup removed by delete');
  });

  t.test('pause / resume: the processes stop, state says paused, runc\'s errors', async (t) => {
    const { id, out } = detached('i=0; while true; do i=$((i+1)); echo $i > /out/count.tmp; mv /out/count.tmp /out/count; sleep 0.02; done');
    const count = () => Number(fs.readFileSync(path.join(out, 'count'), 'utf8').trim() || 0);
    t.ok(waitFor(() => fs.existsSync(path.join(out, 'count')) && count() > 2), 'the counter runs');

    const bad = rt.run(['resume', id]);
    t.equal(bad.code, 1, 'resume of a running container fails');
    t.match(bad.stderr, /container not paused/);

    const p = rt.run(['pause', id]);
    t.equal(p.code, 0, p.stderr);
    t.equal(rt.state(id).status, 'paused');
    t.equal(rt.state(id).pid, record(id).init.pid, 'a paused container keeps its pid in state');
    const list = JSON.parse(rt.run(['list', '--format', 'json']).stdout) as { id: string; status: string }[];
    t.equal(list.find((s) => s.id === id)?.status, 'paused', 'list shows paused');
    t.match(rt.run(['list']).stdout, new RegExp(`${id}\\s+\\d+\\s+paused`));
    const frozenAt = count();
    sleepMs(400);
    t.equal(count(), frozenAt, 'the counter does not advance while paused');

    const again = rt.run(['pause', id]);
    t.equal(again.code, 1, 'pausing a paused container fails');
    t.match(again.stderr, /container not running/);
    const start = rt.run(['start', id]);
    t.equal(start.code, 1, 'start of a paused container fails');

    const res = rt.run(['resume', id]);
    t.equal(res.code, 0, res.stderr);
    t.equal(rt.state(id).status, 'running');
    t.ok(waitFor(() => count() > frozenAt + 3), 'the counter advances again after resume');

    // kill (SIGKILL) of a paused container works: the cgroup is thawed after signalling.
    t.equal(rt.run(['pause', id]).code, 0);
    const k = rt.run(['kill', id, 'KILL']);
    t.equal(k.code, 0, k.stderr);
    t.ok(waitFor(() => rt.state(id).status === 'stopped'), 'a paused container dies from kill KILL');
    const notRunning = rt.run(['pause', id]);
    t.equal(notRunning.code, 1);
    t.match(notRunning.stderr, /container not running/, 'a stopped container cannot be paused');
    t.equal(rt.run(['delete', id]).code, 0);
    t.same(findCgroups(id), []);
  });

  t.test('pause a created container (runc allows it); start refuses until resume', async (t) => {
    const id = uniqueId('cgc-created');
    const bundle = makeBundle({ args: ['sleep', '1000'] });
    bundles.push(bundle);
    t.equal(rt.run(['create', '--bundle', bundle, id]).code, 0);
    t.equal(rt.run(['pause', id]).code, 0);
    t.equal(rt.state(id).status, 'paused');
    const s = rt.run(['start', id]);
    t.equal(s.code, 1, 'start of a paused created container fails');
    t.match(s.stderr, /paused/);
    t.equal(rt.run(['resume', id]).code, 0);
    t.equal(rt.state(id).status, 'created', 'created again after resume');
    const s2 = rt.run(['start', id]);
    t.equal(s2.code, 0, s2.stderr);
    t.equal(rt.state(id).status, 'running');
    t.equal(rt.run(['delete', '--force', id]).code, 0);
    t.same(findCgroups(id), []);
  });

  t.test('pause: SIGTERM to a paused container waits for resume', async (t) => {
    const { id, out } = detached('trap "echo term > /out/got; exit 0" TERM; while true; do sleep 0.02; done');
    t.equal(rt.run(['pause', id]).code, 0);
    t.equal(rt.run(['kill', id, 'TERM']).code, 0);
    sleepMs(300);
    t.notOk(fs.existsSync(path.join(out, 'got')), 'the signal is not handled while frozen');
    t.equal(rt.state(id).status, 'paused', 'still paused');
    t.equal(rt.run(['resume', id]).code, 0);
    t.ok(waitFor(() => rt.state(id).status === 'stopped'), 'handled after resume');
    t.ok(fs.existsSync(path.join(out, 'got')));
    t.equal(rt.run(['delete', id]).code, 0);
  });

  t.test('delete --force and kill --all of paused containers', async (t) => {
    const a = detached('sleep 1000 & sleep 1000 & wait');
    t.equal(rt.run(['pause', a.id]).code, 0);
    const pids = JSON.parse(rt.run(['ps', '--format', 'json', a.id]).stdout) as number[];
    t.equal(pids.length, 3);
    const d = rt.run(['delete', '--force', a.id]);
    t.equal(d.code, 0, d.stderr);
    t.ok(waitFor(() => pids.every((p) => !alive(p))), 'every process is gone');
    t.same(findCgroups(a.id), [], 'no cgroup left');

    // Without a pid namespace, so the init's death does not end the others.
    const b = detached('sleep 1000 & sleep 1000 & wait', (c) => { c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid'); });
    t.equal(rt.run(['pause', b.id]).code, 0);
    const bp = JSON.parse(rt.run(['ps', '--format', 'json', b.id]).stdout) as number[];
    t.equal(bp.length, 3);
    const k = rt.run(['kill', '--all', b.id, '9']);
    t.equal(k.code, 0, k.stderr);
    t.ok(waitFor(() => bp.every((p) => !alive(p))), 'kill --all 9 of a paused container: every process dies');
    t.ok(waitFor(() => rt.state(b.id).status === 'stopped'));
    t.equal(rt.run(['delete', b.id]).code, 0);
    t.same(findCgroups(b.id), []);
  });

  t.test('kill --all without a pid namespace: every process of the cgroup dies', async (t) => {
    const noPidns = (c: Record<string, any>) => { c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid'); }; // eslint-disable-line @typescript-eslint/no-explicit-any
    // A child that ignores TERM and a grandchild, to see that each gets the signal.
    const a = detached('(trap "" TERM; sleep 1000) & (sh -c "sleep 1000 & wait") & sleep 1000 & wait', noPidns);
    let pids: number[] = [];
    t.ok(waitFor(() => (pids = JSON.parse(rt.run(['ps', '--format', 'json', a.id]).stdout) as number[]).length >= 5), `several processes (${pids.length})`);
    t.equal(rt.run(['kill', '--all', a.id, 'KILL']).code, 0);
    t.ok(waitFor(() => pids.every((p) => !alive(p))), 'all of them are gone');
    t.ok(waitFor(() => rt.state(a.id).status === 'stopped'));
    const again = rt.run(['kill', '--all', a.id, '9']);
    t.equal(again.code, 0, 'kill --all of a stopped container is not an error (runc)');
    t.equal(rt.run(['delete', a.id]).code, 0);
    const gone = rt.run(['kill', '--all', a.id, '9']);
    t.equal(gone.code, 1, 'kill --all of a container that does not exist is (runc 1.1: "container does not exist")');
    t.match(gone.stderr, /does not exist/, 'with the words containerd\'s shim maps to "not found"');
    t.equal(rt.run(['kill', a.id, '9']).code, 1, 'without --all it is');

    // runc ≥ 1.2: plain SIGKILL to a container without its own pid namespace kills the whole cgroup.
    const b = detached('sleep 1000 & sleep 1000 & wait', noPidns);
    let bp: number[] = [];
    t.ok(waitFor(() => (bp = JSON.parse(rt.run(['ps', '--format', 'json', b.id]).stdout) as number[]).length === 3));
    t.equal(rt.run(['kill', b.id, 'KILL']).code, 0);
    t.ok(waitFor(() => bp.every((p) => !alive(p))), 'kill KILL without a pid namespace kills every process');
    t.equal(rt.run(['delete', b.id]).code, 0);

    // kill --all with another signal reaches every process too.
    const c = detached('(trap "echo a >> /out/got" USR1; while true; do sleep 0.02; done) & (trap "echo b >> /out/got" USR1; while true; do sleep 0.02; done) & trap "echo init >> /out/got" USR1; while true; do sleep 0.02; done', noPidns);
    sleepMs(300);
    t.equal(rt.run(['kill', '--all', c.id, 'USR1']).code, 0);
    t.ok(waitFor(() => fs.existsSync(path.join(c.out, 'got')) && fs.readFileSync(path.join(c.out, 'got'), 'utf8').trim().split('\n').length === 3));
    t.same(fs.readFileSync(path.join(c.out, 'got'), 'utf8').trim().split('\n').sort(), ['a', 'b', 'init'], 'each process got the signal once');
    t.equal(rt.run(['delete', '--force', c.id]).code, 0);
  });

  t.test('update with runc\'s flags, read back from the host files', async (t) => {
    const { id } = detached('sleep 1000', podmanLimits);
    const u = rt.run(['update', '--memory', '100m', '--memory-swap', '200m', '--memory-reservation', '50m', '--cpu-quota', '20000',
      '--cpu-period', '50000', '--cpu-share', '512', '--pids-limit', '30', id]);
    t.equal(u.code, 0, u.stderr);
    t.same(limits(id), { memory: String(100 * MiB), quota: '20000', period: '50000', pids: '30' });
    if (!v2(id)) {
      t.equal(cg(id, 'cpu', 'cpu.shares'), '512');
      t.equal(cg(id, 'memory', 'memory.soft_limit_in_bytes'), String(50 * MiB));
      if (fs.existsSync(path.join(record(id).cgroup.paths.memory!, 'memory.memsw.limit_in_bytes'))) {
        t.equal(cg(id, 'memory', 'memory.memsw.limit_in_bytes'), String(200 * MiB));
      }
    }
    // Only what is given changes; sizes like docker's (1g = 1024^3, "1.5g", "512 MiB").
    t.equal(rt.run(['update', '--memory-swap', '1g', id]).code, 0);
    t.equal(rt.run(['update', '--memory', '512 MiB', id]).code, 0);
    t.same(limits(id), { memory: String(512 * MiB), quota: '20000', period: '50000', pids: '30' }, 'other limits unchanged');
    t.equal(rt.run(['update', '--cpu-quota', '-1', '--pids-limit', '-1', '--memory', '-1', id]).code, 0);
    const l = limits(id);
    t.ok(l.memory === 'max' || Number(l.memory) > 2 ** 60, `memory -1 is unlimited (${l.memory})`);
    t.equal(l.quota, '-1', 'quota -1 is unlimited');
    t.equal(l.pids, 'max', 'pids-limit -1 is max');
    t.equal(rt.run(['update', '--cpuset-cpus', '0', id]).code, 0);
    t.equal(v2(id) ? cg(id, '', 'cpuset.cpus') : cg(id, 'cpuset', 'cpuset.cpus'), '0');

    // The saved config follows, so a later update/events see the current limits.
    const saved = JSON.parse(fs.readFileSync(path.join(rt.root, id, 'config.json'), 'utf8'));
    t.match(saved.linux.resources, { memory: { limit: -1, reservation: 50 * MiB }, cpu: { quota: -1, period: 50000, shares: 512, cpus: '0' }, pids: { limit: -1 } });

    const errors: [string[], RegExp][] = [
      [['--memory', '12x'], /invalid value for memory: invalid size: '12x'/],
      [['--cpu-quota', 'abc'], /invalid value for cpu-quota: strconv\.ParseInt: parsing "abc": invalid syntax/],
      [['--cpu-period', '-5'], /invalid value for cpu-period: strconv\.ParseUint/],
      [['--l3-cache-schema', 'L3:0=f'], /Intel RDT\/CAT: l3 cache schema is not enabled/],
      [['--mem-bw-schema', 'MB:0=50'], /Intel RDT\/MBA: memory bandwidth schema is not enabled/],
      [['--cpu-share', '1'], /cpu\.shares|cpu\.weight|range|invalid/],
    ];
    for (const [args, re] of errors) {
      const r = rt.run(['update', ...args, id]);
      t.equal(r.code, 1, `update ${args.join(' ')} fails`);
      t.match(r.stderr, re);
    }
    t.equal(rt.run(['delete', '--force', id]).code, 0);
    const gone = rt.run(['update', '--memory', '1g', id]);
    t.equal(gone.code, 1);
    t.match(gone.stderr, /does not exist/);
  });

  t.test('update -r - (docker, stdin) and --resources=FILE (podman)', async (t) => {
    const { id } = detached('sleep 1000', podmanLimits);
    // docker 20.10's document: zero values mean "leave alone".
    const docker = { memory: { limit: 128 * MiB, reservation: 0, swap: 256 * MiB, kernel: 0 }, cpu: { shares: 0, quota: 25000, period: 100000 }, pids: { limit: 60 }, blockIO: { weight: 0 } };
    const r = runIn(['update', '--resources', '-', id], JSON.stringify(docker));
    t.equal(r.code, 0, r.stderr);
    t.same(limits(id), { memory: String(128 * MiB), quota: '25000', period: '100000', pids: '60' });
    if (!v2(id) && fs.existsSync(path.join(record(id).cgroup.paths.memory!, 'memory.memsw.limit_in_bytes'))) {
      t.equal(cg(id, 'memory', 'memory.memsw.limit_in_bytes'), String(256 * MiB));
    }

    const file = path.join(tmpdir('runts-cgc-res-'), 'resources.json');
    bundles.push(path.dirname(file));
    fs.writeFileSync(file, JSON.stringify({ memory: { limit: 96 * MiB, swap: 192 * MiB }, cpu: { quota: 30000 } }));
    const p = rt.run([`update`, `--resources=${file}`, id]);
    t.equal(p.code, 0, p.stderr);
    t.same(limits(id), { memory: String(96 * MiB), quota: '30000', period: '100000', pids: '60' }, 'podman update: only the given values change');
    const saved = JSON.parse(fs.readFileSync(path.join(rt.root, id, 'config.json'), 'utf8'));
    t.match(saved.linux.resources, { memory: { limit: 96 * MiB, swap: 192 * MiB }, cpu: { quota: 30000, period: 100000 }, pids: { limit: 60 } });
    t.same(saved.linux.resources.devices, [{ allow: false, access: 'rwm' }], 'devices untouched');

    // -r wins over the flags (runc: "all other options are ignored").
    const both = runIn(['update', '-r', '-', '--pids-limit', '5', id], '{"pids":{"limit":70}}');
    t.equal(both.code, 0, both.stderr);
    t.equal(limits(id).pids, '70');

    const bad: [string | Buffer, RegExp][] = [
      // checked as config.json is: every integer against its C type, by its digits; UTF-8 with the byte offset
      ['{"memory":{"limit":9223372036854775808}}', /\/memory\/limit: .*int64/],
      ['{"pids":{"limit":-9223372036854775809}}', /\/pids\/limit: .*int64/],
      [Buffer.concat([Buffer.from('{"unified":{"a'), Buffer.from([0xc0, 0xae]), Buffer.from('":"1"}}')]), /invalid UTF-8 at byte offset 14/],
      ['{"memory":{"limit":"big"}}', /\/memory\/limit: must be integer/],
      ['{"cpu":{"cpus":5}}', /\/cpu\/cpus: must be string/],
      ['{"pids":{}}', /\/pids: missing required property "limit"/],
      ['[1]', /resources \(stdin\) \/: must be a LinuxResources object/],
      ['{"memory": {"limit": 1,}}', /invalid JSON at line 1, column/],
    ];
    for (const [doc, re] of bad) {
      const b = runIn(['update', '-r', '-', id], doc);
      t.equal(b.code, 1, `refused: ${doc.toString()}`);
      t.match(b.stderr, re);
    }
    t.equal(limits(id).pids, '70', 'nothing changed by the refused documents');
    const missing = rt.run(['update', '-r', '/nonexistent/res.json', id]);
    t.equal(missing.code, 1);
    t.match(missing.stderr, /nonexistent\/res\.json/);
    t.equal(rt.run(['delete', '--force', id]).code, 0);
  });

  t.test('events --stats: one line of runc\'s stats JSON', async (t) => {
    const { id } = detached('sleep 1000', podmanLimits);
    const r = rt.run(['events', '--stats', id]);
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    t.equal(lines.length, 1);
    t.match(lines[0], new RegExp(`^\\{"type":"stats","id":"${id}","data":\\{`), 'runc\'s field order');
    const ev = JSON.parse(lines[0]!);
    for (const k of ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']) t.ok(k in ev.data, `data.${k}`);
    t.type(ev.data.cpu.usage.total, 'number');
    t.type(ev.data.cpu.usage.kernel, 'number');
    t.type(ev.data.cpu.usage.user, 'number');
    t.equal(ev.data.memory.usage.limit, 64 * MiB);
    t.type(ev.data.memory.usage.usage, 'number');
    t.match(ev.data.pids, { current: 1, limit: 20 });
    t.equal(rt.run(['delete', '--force', id]).code, 0);
  });

  t.test('events: bad intervals, stopped containers', async (t) => {
    const { id } = detached('sleep 1000');
    for (const [iv, re] of [['0s', /duration interval must be greater than 0/], ['-1s', /greater than 0/], ['5x', /invalid value "5x" for flag --interval/], ['abc', /invalid duration/]] as const) {
      const r = rt.run(['events', '--interval', iv, id]);
      t.equal(r.code, 1, `--interval ${iv}`);
      t.match(r.stderr, re);
    }
    t.equal(rt.run(['kill', id, 'KILL']).code, 0);
    t.ok(waitFor(() => rt.state(id).status === 'stopped'));
    const r = rt.run(['events', '--stats', id]);
    t.equal(r.code, 1);
    t.match(r.stderr, new RegExp(`container with id ${id} is not running`));
    t.equal(rt.run(['delete', id]).code, 0);
  });

  t.test('events: a stats line every interval, exit when the container stops', async (t) => {
    const { id } = detached('sleep 1000');
    const ev = spawn(RUNTS, ['--root', rt.root, 'events', '--interval', '150ms', id], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    ev.stdout.on('data', (d) => { stdout += d; });
    ev.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((res) => ev.on('exit', (c) => res(c)));
    const until = Date.now() + 10_000;
    while (stdout.split('\n').filter(Boolean).length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    t.equal(rt.run(['kill', id, 'KILL']).code, 0);
    const timer = setTimeout(() => ev.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    t.equal(code, 0, `events exits by itself when the container stops ${stderr}`);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    t.ok(lines.length >= 3, `${lines.length} lines`);
    t.ok(lines.every((l) => l.type === 'stats' && l.id === id && typeof l.data === 'object'));
    t.equal(rt.run(['delete', id]).code, 0);
  });

  t.test('events: an OOM kill in a 32m container is reported', async (t) => {
    // Swap = limit, so the memory cannot go to swap; awk doubles a string until the OOM killer stops it.
    const { id, out } = detached('while [ ! -e /out/go ]; do sleep 0.02; done; awk \'BEGIN { s = "x"; while (1) s = s s }\'; echo survived > /out/after; sleep 1000', (c) => {
      c.linux.resources = { memory: { limit: 32 * MiB, swap: 32 * MiB } };
    });
    const ev = spawn(RUNTS, ['--root', rt.root, 'events', '--interval', '100ms', id], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    ev.stdout.on('data', (d) => { stdout += d; });
    const exited = new Promise<number | null>((res) => ev.on('exit', (c) => res(c)));
    let until = Date.now() + 10_000;
    while (!stdout.includes('"stats"') && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    fs.writeFileSync(path.join(out, 'go'), '');
    until = Date.now() + 20_000;
    while (!stdout.includes('"oom"') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const oom = stdout.split('\n').filter((l) => l.includes('"oom"'));
    t.ok(oom.length >= 1, 'an oom event');
    t.equal(oom[0], JSON.stringify({ type: 'oom', id }), 'runc\'s shape: no data');
    t.ok(waitFor(() => fs.existsSync(path.join(out, 'after'))), 'the container lives on after the OOM kill of awk');
    t.equal(rt.run(['delete', '--force', id]).code, 0);
    const timer = setTimeout(() => ev.kill('SIGKILL'), 5000);
    t.equal(await exited, 0, 'events ends with the container');
    clearTimeout(timer);
  });

  t.test('ps: json (host pids of the cgroup) and table (ps -ef filtered)', async (t) => {
    const { id } = detached('sleep 1001 & sleep 1002 & wait');
    let pids: number[] = [];
    t.ok(waitFor(() => (pids = JSON.parse(rt.run(['ps', '--format', 'json', id]).stdout) as number[]).length === 3));
    const j = rt.run(['ps', '--format', 'json', id]);
    t.match(j.stdout, /^\[\d+(,\d+)*\]\n$/, 'a bare JSON array of numbers, as containerd parses');
    t.ok(pids.includes(Number(rt.state(id).pid)), 'includes the init');
    for (const p of pids) t.match(fs.readFileSync(`/proc/${p}/cgroup`, 'utf8'), id, `${p} is in the container's cgroup`);

    const tab = rt.run(['ps', id]);
    t.equal(tab.code, 0, tab.stderr);
    const rows = tab.stdout.trimEnd().split('\n');
    t.match(rows[0], /^UID\s+PID\s+PPID/, 'ps -ef header');
    t.equal(rows.length, 4, 'header + 3 processes');
    t.ok(rows.some((l) => l.includes('sleep 1001')) && rows.some((l) => l.includes('sleep 1002')));
    const col = rows[0]!.trim().split(/\s+/).indexOf('PID');
    t.same(rows.slice(1).map((l) => Number(l.trim().split(/\s+/)[col])).sort(), [...pids].sort(), 'exactly the cgroup\'s pids');

    const custom = rt.run(['ps', id, '-o', 'pid,args']);
    t.equal(custom.code, 0, custom.stderr);
    t.match(custom.stdout.split('\n')[0], /^\s*PID\s+COMMAND/);
    t.equal(custom.stdout.trim().split('\n').length, 4);

    const noPid = rt.run(['ps', id, '-o', 'comm']);
    t.equal(noPid.code, 1);
    t.match(noPid.stderr, /couldn't find PID field in ps output/);
    const badFmt = rt.run(['ps', '--format', 'yaml', id]);
    t.equal(badFmt.code, 1);
    t.equal(rt.run(['delete', '--force', id]).code, 0);
  });

  t.test('no cgroup directory is left behind', async (t) => {
    for (const id of fs.readdirSync(rt.root).filter((n) => !n.startsWith('.'))) rt.run(['delete', '--force', id]);
    t.same(findCgroups(`-${process.pid}-`), []);
  });
}
