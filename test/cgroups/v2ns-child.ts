/**
 * Run by manager-v2.test.ts inside a private mount + cgroup namespace where
 * /sys/fs/cgroup is a fresh cgroup2 mount and nothing else: a pure v2 host
 * as the library sees it. Prints one JSON object with what it observed.
 * Not a test file on its own (tap only runs *.test.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { detectCgroups } from '../../src/cgroups/detect.js';
import { cgroupManager, cgroupManagerFromRecord } from '../../src/cgroups/manager.js';

const out: Record<string, unknown> = {};
const err = (f: () => unknown) => {
  try {
    f();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
};

async function main(): Promise<void> {
  const host = detectCgroups();
  out.host = host;
  const m = cgroupManager('nsctr', '/pod/ctr');
  out.paths = m.record.paths;
  out.v2Mount = m.record.v2Mount;
  out.relative = cgroupManager('x', 'rel/ctr').record.paths[''];
  out.defaultPath = cgroupManager('web', undefined).record.paths[''];
  m.create();
  out.created = [...m.record.created];
  const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
  const exited = new Promise<string | null>((r) => c.on('exit', (_code, sig) => r(sig)));
  try {
    m.apply(c.pid!);
    out.procCgroup = /^0::(.*)$/m.exec(readFileSync(`/proc/${c.pid}/cgroup`, 'utf8'))?.[1];
    out.pids = m.pids().length;
    out.pidsErr = err(() => m.set({ pids: { limit: 10 } }));
    out.unifiedErr = err(() => m.set({ unified: { 'memory.high': '1000000' } }));
    m.set({ unified: { 'cgroup.max.descendants': '3' } });
    out.maxDescendants = readFileSync(`${m.record.paths['']}/cgroup.max.descendants`, 'utf8').trim();
    m.freeze();
    out.frozen = m.frozen();
    out.events = readFileSync(`${m.record.paths['']}/cgroup.events`, 'utf8');
    m.thaw();
    out.thawed = !m.frozen();
    const again = cgroupManagerFromRecord(JSON.parse(JSON.stringify(m.record)));
    again.killAll(9);
    out.signal = await exited;
    again.destroy();
    out.left = (m.record.created as string[]).filter((d) => existsSync(d));
  } finally {
    c.kill('SIGKILL');
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String((e as Error).stack ?? e));
  process.exit(1);
});
