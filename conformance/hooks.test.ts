/**
 * POSIX-platform hooks (config.md) and their place in the lifecycle
 * (runtime.md): order, namespaces, where the path resolves, the state on
 * stdin, args/env, what exists when each phase runs, and failures.
 *
 * Every hook is /bin/busybox with args ["sh", "-c", SCRIPT, ...]: busybox
 * picks its applet from argv[0], so the hook only works if args[0] really is
 * passed as argv[0] (execv semantics).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { check, type TestT, withRuntime } from './lib/check.js';
import { findCgroups, findProcesses, hostMountsUnder, makeBundle, processGone, tmpdir, uniqueId, waitFor } from './lib/runtime.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PHASES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
type Phase = typeof PHASES[number];

/**
 * The hook: saves its stdin (the state) to $LOG/<phase>-<which>.json and
 * appends one line of facts to $LOG/hooks.log.
 */
const HOOK = `
phase=$1; which=$2
state=$(cat)
printf '%s' "$state" > "$LOG/$phase-$which.json"
pid=$(echo "$state" | sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p')
extra=""
case $phase in
  prestart|createRuntime)
    extra="root=$(readlink /proc/$pid/root) data=$(grep -c " $ROOTFS/data " /proc/$pid/mountinfo)" ;;
  createContainer)
    extra="hostlog=$([ -d "$HOSTLOG" ] && echo visible || echo hidden) data=$(grep -c " $ROOTFS/data " /proc/self/mountinfo)" ;;
  startContainer)
    extra="hostlog=$([ -d "$HOSTLOG" ] && echo visible || echo hidden) init=$(tr '\\0' ' ' < /proc/1/cmdline | cut -c1-40)" ;;
  poststart)
    extra="cmdline=$(tr '\\0' ' ' < /proc/$pid/cmdline)" ;;
  poststop)
    extra="cgroup=$([ -d "$CGDIR" ] && echo present || echo gone)" ;;
esac
echo "$phase $which mnt=$(readlink /proc/self/ns/mnt) hookvar=$HOOKVAR leak=\${CONF_LEAK:-none} $extra" >> "$LOG/hooks.log"
exit \${HOOK_EXIT:-0}
`;

withRuntime((rt) => {
  const hostMnt = fs.readlinkSync('/proc/self/ns/mnt');

  function hookBundle(log: string, mutate?: (c: Json, rootfs: string) => void) {
    const cgPath = `/conf-hooks-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    return makeBundle({
      args: ['sleep', '2'],
      privateRootfs: true,
      mutate: (c, { rootfs }) => {
        c.linux.cgroupsPath = cgPath;
        c.mounts.push({ destination: '/out', type: 'bind', source: log, options: ['rbind', 'rw'] });
        c.mounts.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
        c.hooks = {};
        for (const phase of PHASES) {
          const inContainer = phase === 'startContainer';
          c.hooks[phase] = ['a', 'b'].map((which) => ({
            path: '/bin/busybox',
            args: ['sh', '-c', HOOK, 'hook', phase, which],
            env: [`LOG=${inContainer ? '/out' : log}`, `HOOKVAR=${phase}-${which}`, `ROOTFS=${rootfs}`, `HOSTLOG=${log}`, `CGDIR=/sys/fs/cgroup/memory${cgPath}`],
          }));
        }
        mutate?.(c, rootfs);
      },
    });
  }

  function lines(log: string): string[] {
    try { return fs.readFileSync(path.join(log, 'hooks.log'), 'utf8').trim().split('\n').filter(Boolean); } catch { return []; }
  }

  check('hooks run in lifecycle order, in the listed order, once each', [
    'config.md#posix-platform-hooks/19', 'config.md#prestart/2', 'config.md#createcontainer-hooks/2',
    'runtime.md#lifecycle/5', 'runtime.md#lifecycle/7', 'runtime.md#lifecycle/9', 'runtime.md#lifecycle/11', 'runtime.md#lifecycle/14', 'runtime.md#lifecycle/17',
    'config.md#startcontainer-hooks/1', 'config.md#poststart/1', 'config.md#poststop/1',
  ], async (t) => {
    const log = tmpdir('conf-hooks-');
    t.teardown(() => fs.rmSync(log, { recursive: true, force: true }));
    const id = uniqueId('hk');
    const b = hookBundle(log);
    const c = rt.run(['create', '--bundle', b.dir, id], { env: { CONF_LEAK: 'leaked' } });
    t.equal(c.code, 0, `create: ${c.stderr}`);
    t.same(lines(log).map((l) => l.split(' ').slice(0, 2).join(' ')),
      ['prestart a', 'prestart b', 'createRuntime a', 'createRuntime b', 'createContainer a', 'createContainer b'], 'create ran prestart, createRuntime, createContainer');
    const s = rt.run(['start', id], { env: { CONF_LEAK: 'leaked' } });
    t.equal(s.code, 0, `start: ${s.stderr}`);
    t.same(lines(log).slice(6).map((l) => l.split(' ').slice(0, 2).join(' ')),
      ['startContainer a', 'startContainer b', 'poststart a', 'poststart b'], 'start ran startContainer and poststart before returning');
    t.ok(rt.waitStopped(id));
    const d = rt.run(['delete', id], { env: { CONF_LEAK: 'leaked' } });
    t.equal(d.code, 0, `delete: ${d.stderr}`);
    t.same(lines(log).slice(10).map((l) => l.split(' ').slice(0, 2).join(' ')), ['poststop a', 'poststop b'], 'delete ran poststop before returning');
  });

  check('each hook gets the state on stdin, its own args and env, in the right namespace', [
    'config.md#posix-platform-hooks/20', 'config.md#posix-platform-hooks/4', 'config.md#posix-platform-hooks/6', 'config.md#posix-platform-hooks/9',
    'config.md#posix-platform-hooks/10', 'config.md#posix-platform-hooks/11', 'config.md#posix-platform-hooks/12', 'config.md#posix-platform-hooks/13',
    'config.md#posix-platform-hooks/14', 'config.md#posix-platform-hooks/15', 'config.md#posix-platform-hooks/16', 'config.md#posix-platform-hooks/17',
    'config.md#posix-platform-hooks/18',
    'config.md#prestart/3', 'config.md#prestart/4', 'config.md#createruntime-hooks/2', 'config.md#createruntime-hooks/3',
    'config.md#createcontainer-hooks/3', 'config.md#createcontainer-hooks/4', 'config.md#startcontainer-hooks/2', 'config.md#startcontainer-hooks/3',
    'config.md#poststart/2', 'config.md#poststart/3', 'config.md#poststop/2', 'config.md#poststop/3', 'runtime.md#state/6',
  ], async (t) => {
    const log = tmpdir('conf-hooks-');
    t.teardown(() => fs.rmSync(log, { recursive: true, force: true }));
    const id = uniqueId('hk');
    const b = hookBundle(log, (c) => { c.annotations = { 'org.example.hook': 'yes' }; });
    // startContainer's /bin/busybox must resolve in the container: make the host path fail there
    const r = rt.lifecycle(b.dir, id, { env: { CONF_LEAK: 'leaked' } });
    t.equal(r.create.code, 0, r.create.stderr);
    t.equal(r.start?.code, 0, r.start?.stderr ?? '');
    t.equal(r.delete?.code, 0, r.delete?.stderr ?? '');
    const byPhase = new Map<string, string>();
    for (const l of lines(log)) byPhase.set(l.split(' ').slice(0, 2).join(' '), l);
    const wantStatus: Record<Phase, string> = { prestart: 'created', createRuntime: 'created', createContainer: 'created', startContainer: 'created', poststart: 'running', poststop: 'stopped' };
    let hostPid = 0;
    for (const phase of PHASES) {
      for (const which of ['a', 'b']) {
        const l = byPhase.get(`${phase} ${which}`);
        if (!t.ok(l, `${phase} ${which} ran`)) continue;
        const inContainer = phase === 'createContainer' || phase === 'startContainer';
        const mnt = /mnt=(\S+)/.exec(l!)![1];
        if (inContainer) t.not(mnt, hostMnt, `${phase} ${which} executes in the container's mount namespace`);
        else t.equal(mnt, hostMnt, `${phase} ${which} executes in the runtime's mount namespace`);
        t.match(l!, `hookvar=${phase}-${which} `, `${phase} ${which} gets its env`);
        t.match(l!, 'leak=none ', `${phase} ${which} does not get the runtime's environment`);
        let st: Json;
        try { st = JSON.parse(fs.readFileSync(path.join(log, `${phase}-${which}.json`), 'utf8')); } catch (e) { t.fail(`${phase} ${which}: state on stdin is JSON: ${e}`); continue; }
        t.equal(st.id, id, `${phase} ${which}: state.id`);
        t.equal(st.bundle, b.dir, `${phase} ${which}: state.bundle`);
        t.equal(st.status, wantStatus[phase], `${phase} ${which}: state.status ${wantStatus[phase]}`);
        t.same(st.annotations, { 'org.example.hook': 'yes' }, `${phase} ${which}: state.annotations`);
        if (inContainer) t.equal(st.pid, 1, `${phase} ${which}: pid as seen in the container (pid namespace)`);
        else if (phase !== 'poststop') {
          t.ok(st.pid > 1, `${phase} ${which}: pid as seen by the runtime`);
          if (phase === 'prestart') hostPid = st.pid;
          else t.equal(st.pid, hostPid, `${phase} ${which}: the same host pid`);
        }
      }
    }
  });

  check('hooks see the lifecycle step they belong to', [
    'config.md#prestart/1', 'config.md#createruntime-hooks/1', 'config.md#createcontainer-hooks/1', 'config.md#startcontainer-hooks/1',
    'config.md#startcontainer-hooks/2', 'config.md#poststart/1', 'config.md#poststop/1',
  ], async (t) => {
    const log = tmpdir('conf-hooks-');
    t.teardown(() => fs.rmSync(log, { recursive: true, force: true }));
    const id = uniqueId('hk');
    const b = hookBundle(log);
    const r = rt.lifecycle(b.dir, id);
    t.equal(r.create.code, 0, r.create.stderr);
    const byPhase = new Map<string, string>();
    for (const l of lines(log)) byPhase.set(l.split(' ')[0]!, l);
    for (const phase of ['prestart', 'createRuntime'] as const) {
      const l = byPhase.get(phase) ?? '';
      t.match(l, ' root=/ ', `${phase}: the container process has not pivoted yet (its root is still the host's /)`);
      t.match(l, ' data=1', `${phase}: the runtime environment exists (the /data mount is in place)`);
    }
    const cc = byPhase.get('createContainer') ?? '';
    t.match(cc, 'hostlog=visible', 'createContainer: before pivot_root (a host directory outside the rootfs is still reachable)');
    t.match(cc, ' data=1', 'createContainer: the mounts are set up');
    const sc = byPhase.get('startContainer') ?? '';
    t.match(sc, 'hostlog=hidden', 'startContainer: inside the container root');
    t.notMatch(sc, 'init=sleep', 'startContainer: the user program has not been executed yet');
    t.match(byPhase.get('poststart') ?? '', 'cmdline=sleep 2', 'poststart: the container process is already the user program');
    t.match(byPhase.get('poststop') ?? '', 'cgroup=gone', 'poststop: the container has been deleted (its cgroup is gone)');
  });

  function failingCreate(t: TestT, phase: Phase): void {
    const log = tmpdir('conf-hooks-');
    t.teardown(() => fs.rmSync(log, { recursive: true, force: true }));
    const id = uniqueId(`f${phase}`);
    const b = hookBundle(log, (c) => {
      c.hooks[phase][0].env.push('HOOK_EXIT=7');
      c.hooks.poststop = [{ path: '/bin/busybox', args: ['sh', '-c', `echo poststop >> ${log}/poststop.log`] }];
    });
    const mounts = hostMountsUnder(b.rootfs);
    const r = rt.run(['create', '--bundle', b.dir, id]);
    t.not(r.code, 0, `a failing ${phase} hook fails create`);
    t.notOk(lines(log).some((l) => l.startsWith(`${phase} b`)), `the ${phase} hooks after the failing one did not run`);
    t.notOk(lines(log).some((l) => l.startsWith('startContainer')), 'the container was not started');
    t.not(rt.run(['state', id]).code, 0, 'the container does not exist');
    t.same(findCgroups(b.config.linux.cgroupsPath.slice(1)), [], 'its cgroup was removed');
    t.same(findProcesses(id), [], 'no process is left');
    t.same(hostMountsUnder(b.rootfs), mounts, 'no mount is left');
  }

  check('a failing prestart hook: error, container destroyed', ['runtime.md#lifecycle/6', 'runtime.md#lifecycle/16'], async (t) => failingCreate(t, 'prestart'));
  check('a failing createRuntime hook: error, container destroyed', ['runtime.md#lifecycle/8', 'runtime.md#lifecycle/16'], async (t) => failingCreate(t, 'createRuntime'));
  check('a failing createContainer hook: error, container destroyed', ['runtime.md#lifecycle/10', 'runtime.md#lifecycle/16'], async (t) => failingCreate(t, 'createContainer'));

  check('after a failed create the poststop hooks still run', ['runtime.md#lifecycle/17'], async (t) => {
    for (const phase of ['prestart', 'createRuntime', 'createContainer'] as const) {
      const log = tmpdir('conf-hooks-');
      const id = uniqueId('fps');
      const b = makeBundle({ args: ['true'], mutate: (c) => {
        c.hooks = {
          [phase]: [{ path: '/bin/false' }],
          poststop: [{ path: '/bin/busybox', args: ['sh', '-c', `echo ran >> ${log}/poststop.log`] }],
        };
      } });
      t.not(rt.run(['create', '--bundle', b.dir, id]).code, 0, `${phase} failure fails create`);
      t.ok(fs.existsSync(path.join(log, 'poststop.log')), `poststop hooks ran after the ${phase} failure (lifecycle steps 12-13)`);
      fs.rmSync(log, { recursive: true, force: true });
    }
  });

  check('a failing startContainer hook: start fails, the user program does not run, the container stops', ['runtime.md#lifecycle/12'], async (t) => {
    const log = tmpdir('conf-hooks-');
    t.teardown(() => fs.rmSync(log, { recursive: true, force: true }));
    const id = uniqueId('fsc');
    const b = hookBundle(log, (c) => {
      c.hooks.startContainer[0].env.push('HOOK_EXIT=3');
      c.process.args = ['sh', '-c', 'echo ran > /out/user-program; sleep 30'];
    });
    t.equal(rt.run(['create', '--bundle', b.dir, id]).code, 0);
    const pid = Number(rt.state(id).pid);
    const s = rt.run(['start', id]);
    t.not(s.code, 0, 'start fails');
    t.ok(waitFor(() => processGone(pid)), 'the container process is gone');
    t.notOk(fs.existsSync(path.join(log, 'user-program')), 'the user program never ran');
    t.notOk(lines(log).some((l) => l.startsWith('poststart')), 'no poststart hooks');
    const st = rt.stateOrNull(id);
    t.ok(st === null || st.status === 'stopped', `the container is stopped or gone (${st?.status ?? 'gone'})`);
    rt.run(['delete', '--force', id]);
    t.ok(lines(log).some((l) => l.startsWith('poststop a')), 'poststop hooks ran when it was destroyed');
    t.same(findCgroups(b.config.linux.cgroupsPath.slice(1)), [], 'nothing is left');
  });

  check('a failing poststart hook: start fails and the container is stopped', ['runtime.md#lifecycle/15'], async (t) => {
    const log = tmpdir('conf-hooks-');
    t.teardown(() => fs.rmSync(log, { recursive: true, force: true }));
    const id = uniqueId('fps');
    const b = hookBundle(log, (c) => {
      c.hooks.poststart[0].env.push('HOOK_EXIT=4');
      c.process.args = ['sleep', '30'];
    });
    t.equal(rt.run(['create', '--bundle', b.dir, id]).code, 0);
    const pid = Number(rt.state(id).pid);
    const s = rt.run(['start', id]);
    t.not(s.code, 0, 'start reports the error');
    t.ok(waitFor(() => processGone(pid)), 'the container process was stopped');
    const st = rt.stateOrNull(id);
    t.ok(st === null || st.status === 'stopped', `the container is stopped or gone (${st?.status ?? 'gone'})`);
    rt.run(['delete', '--force', id]);
    t.same(findCgroups(b.config.linux.cgroupsPath.slice(1)), [], 'nothing is left');
  });

  check('a failing poststop hook is only a warning: the other hooks and delete go on', ['runtime.md#lifecycle/18', 'runtime.md#warnings/1'], async (t) => {
    const log = tmpdir('conf-hooks-');
    t.teardown(() => fs.rmSync(log, { recursive: true, force: true }));
    const id = uniqueId('fpo');
    const b = hookBundle(log, (c) => { c.hooks.poststop[0].env.push('HOOK_EXIT=5'); c.process.args = ['true']; });
    const r = rt.lifecycle(b.dir, id);
    t.equal(r.create.code, 0);
    t.equal(r.delete?.code, 0, `delete succeeds: ${r.delete?.stderr}`);
    t.ok(lines(log).some((l) => l.startsWith('poststop b')), 'the next poststop hook ran');
    t.not(rt.run(['state', id]).code, 0, 'the container is gone');
    t.same(findCgroups(b.config.linux.cgroupsPath.slice(1)), [], 'its cgroup is gone');
  });

  check('a hook that exceeds its timeout fails the operation', ['runtime.md#lifecycle/8'], async (t) => {
    const id = uniqueId('hto');
    const b = makeBundle({ args: ['true'], mutate: (c) => {
      c.hooks = { createRuntime: [{ path: '/bin/busybox', args: ['sleep', '30'], timeout: 1 }] };
    } });
    const t0 = Date.now();
    const r = rt.run(['create', '--bundle', b.dir, id]);
    t.not(r.code, 0, 'create fails');
    t.ok(Date.now() - t0 < 15_000, `create gave up after the timeout (${Date.now() - t0} ms)`);
    t.not(rt.run(['state', id]).code, 0, 'no container is left');
  });
});
