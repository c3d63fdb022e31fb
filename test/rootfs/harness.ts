/**
 * Test harness for the real rootfs tests: a bundle with a private busybox
 * rootfs, a fixture run in fresh namespaces, and parsers for what it prints.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rootfsPlanSpec } from '../helpers/config.js';
import { makeBusyboxRootfs, tmpdir } from '../helpers/rootfs.js';
import { planRootfs, type RootfsOptions, type RootfsPlan } from '../../src/plan/rootfs.js';
import { parseMountinfo, type MountInfo } from '../../src/linux/rootfs/mountinfo.js';
import type { Spec } from '../../src/spec/types.js';
import type { Scenario } from './fixture.js';

export const FIXTURE = path.join(__dirname, 'fixture.ts');
const REPO = path.resolve(__dirname, '../..');

export function canRun(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!fs.existsSync('/bin/busybox')) return 'needs busybox-static';
  const r = spawnSync('unshare', ['--mount', 'true']);
  if (r.status !== 0) return 'unshare --mount does not work here';
  return false;
}

export interface Bundle { dir: string; rootfs: string; cleanup: () => void }

export function makeBundle(): Bundle {
  const dir = tmpdir('runts-rootfs-test-');
  const cleanup = (): void => fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.mkdirSync(path.join(dir, 'rootfs'), { mode: 0o755 });
    return { dir, rootfs: makeBusyboxRootfs(path.join(dir, 'rootfs')), cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** runc spec's default mounts, masked and readonly paths (test/helpers/config.ts). */
export function defaultSpec(): Spec {
  return rootfsPlanSpec();
}

/** The fixture runs in a new mount namespace: a spec without linux.namespaces is planned as if it had one. */
export function plan(spec: Spec, bundle: Bundle, opts: Partial<RootfsOptions> = {}): RootfsPlan {
  const p = planRootfs(spec, { bundle: bundle.dir, noPivot: false, userns: false, cgroupns: false, ...opts });
  return spec.linux?.namespaces ? p : { ...p, mountns: 'new' };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The RUNTS_ERROR line's message, if setup failed. */
  error: string | null;
  /** Output sections: "==name" lines start a section. */
  sections: Record<string, string>;
}

/** Extra unshare flags for a variant, e.g. ['--user', '--map-root-user', '--net', '--ipc']. */
export function runScenario(bundle: Bundle, sc: Scenario, unshareExtra: string[] = []): RunResult {
  const file = path.join(bundle.dir, 'scenario.json');
  fs.writeFileSync(file, JSON.stringify(sc));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_EXTRA_CA_CERTS' || k === 'NODE_OPTIONS' || k.startsWith('TAP') || k.startsWith('NYC')) continue;
    env[k] = v;
  }
  const r = spawnSync('unshare', [...unshareExtra, '--mount', '--pid', '--fork', '--propagation', 'unchanged',
    process.execPath, '--import', 'tsx', FIXTURE, file], { encoding: 'utf8', cwd: REPO, env, timeout: 60_000 });
  const stdout = r.stdout ?? '';
  const m = /^RUNTS_ERROR: (.*)$/m.exec(stdout);
  const sections: Record<string, string> = {};
  let cur = '';
  for (const line of stdout.replace(/\n$/, '').split('\n')) {
    const s = /^==(\S+)$/.exec(line);
    if (s) { cur = s[1]!; sections[cur] = ''; continue; }
    if (cur) sections[cur] += line + '\n';
  }
  return { status: r.status, stdout, stderr: r.stderr ?? '', error: m ? m[1]! : null, sections };
}

export function hostMountinfo(): MountInfo[] {
  return parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
}

export function mountpoints(mi: MountInfo[]): string[] {
  return mi.map((m) => `${m.mountpoint} ${m.fstype}`).sort();
}

/** The topmost mount at a mountpoint. */
export function mountAt(mi: MountInfo[], mp: string): MountInfo | undefined {
  return mi.filter((m) => m.mountpoint === mp).pop();
}

/** Script fragment: print a section header then run a command. */
export function section(name: string, cmd: string): string {
  return `echo '==${name}'; ${cmd} 2>&1\n`;
}
