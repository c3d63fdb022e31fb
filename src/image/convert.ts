/**
 * The image config -> runtime config conversion (image-spec conversion.md),
 * pure: Entrypoint + Cmd -> process.args, Env, WorkingDir -> cwd, User
 * resolved through the image's own /etc/passwd and /etc/group (their text is
 * passed in), and the image's identity, labels, ports and stop signal as
 * annotations. Everything else is `runts spec`'s default config.
 */
import { RuntsError } from '../common/errors.js';
import { defaultSpec } from '../spec/default-spec.js';
import type { Spec } from '../spec/types.js';
import type { Descriptor, ImageConfig } from './layout.js';

export interface PasswdEntry { name: string; uid: number; gid: number; home: string }
export interface GroupEntry { name: string; gid: number; members: string[] }

const ID_MAX = 0xfffffffe;

function id(s: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= ID_MAX ? n : undefined;
}

/** The colon-separated records of an /etc/passwd or /etc/group text with at least `fields` fields and a name; comments and malformed lines are skipped, as libc does. */
function records(text: string, fields: number): string[][] {
  return text.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.split(':')).filter((f) => f.length >= fields && f[0] !== '');
}

/** /etc/passwd lines "name:x:uid:gid:gecos:home:shell"; malformed lines are skipped, as libc does. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of records(text, 7)) {
    const uid = id(f[2]!);
    const gid = id(f[3]!);
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5]! });
  }
  return out;
}

/** /etc/group lines "name:x:gid:member,member". */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of records(text, 4)) {
    const gid = id(f[2]!);
    if (gid === undefined) continue;
    out.push({ name: f[0]!, gid, members: f[3]!.split(',').filter((m) => m !== '') });
  }
  return out;
}

export interface ResolvedUser { uid: number; gid: number; additionalGids?: number[]; home?: string }

/**
 * The image's User ("user", "uid", "user:group", "uid:gid", "uid:group",
 * "user:gid") against its passwd and group files. A name that is not there
 * is an error; a number need not be there. Without a group, the gid is the
 * user's primary group (0 for an unknown uid) and the additional gids are the
 * groups listing the user.
 */
export function resolveUser(user: string | undefined, passwd: PasswdEntry[], group: GroupEntry[]): ResolvedUser {
  if (user === undefined || user === '') return { uid: 0, gid: 0 };
  const [u, g, ...extra] = user.split(':');
  if (extra.length || u === '' || g === '') throw new RuntsError(`image config User ${JSON.stringify(user)}: expected user[:group]`, { op: 'unpack' });
  let uid = id(u!);
  let entry: PasswdEntry | undefined;
  if (uid === undefined) {
    if (!/^[^\s:]+$/.test(u!) || /^[0-9]+$/.test(u!)) throw new RuntsError(`image config User ${JSON.stringify(user)}: bad user ${JSON.stringify(u)}`, { op: 'unpack' });
    entry = passwd.find((p) => p.name === u);
    if (!entry) throw new RuntsError(`image config User ${JSON.stringify(user)}: no user ${JSON.stringify(u)} in the image's /etc/passwd`, { op: 'unpack', path: '/etc/passwd' });
    uid = entry.uid;
  } else {
    entry = passwd.find((p) => p.uid === uid);
  }
  if (g !== undefined) {
    let gid = id(g);
    if (gid === undefined) {
      const ge = group.find((x) => x.name === g);
      if (!ge) throw new RuntsError(`image config User ${JSON.stringify(user)}: no group ${JSON.stringify(g)} in the image's /etc/group`, { op: 'unpack', path: '/etc/group' });
      gid = ge.gid;
    }
    return { uid, gid, home: entry?.home };
  }
  const gid = entry?.gid ?? 0;
  const additional = entry ? [...new Set(group.filter((x) => x.members.includes(entry!.name) && x.gid !== gid).map((x) => x.gid))] : [];
  return { uid, gid, ...(additional.length ? { additionalGids: additional } : {}), home: entry?.home };
}

export interface ConvertInput {
  config: ImageConfig;
  manifest: Descriptor;
  ref?: string;
  user: ResolvedUser;
}

/** The bundle's config.json for an image. */
export function imageToSpec(inp: ConvertInput): Spec {
  const spec = defaultSpec();
  const c = inp.config.config ?? {};
  const p = spec.process!;
  const args = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (args.length === 0) throw new RuntsError('the image has neither Entrypoint nor Cmd: there is nothing to run', { op: 'unpack' });
  p.args = args;
  p.terminal = false;
  const env = [...(c.Env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  if (inp.user.home && !env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${inp.user.home}`);
  p.env = env;
  p.cwd = c.WorkingDir && c.WorkingDir.startsWith('/') ? c.WorkingDir : '/';
  p.user = { uid: inp.user.uid, gid: inp.user.gid, ...(inp.user.additionalGids ? { additionalGids: inp.user.additionalGids } : {}) };
  spec.root = { path: 'rootfs', readonly: false };
  spec.hostname = 'runts';
  const ann: Record<string, string> = { ...(c.Labels ?? {}) };
  if (inp.config.os) ann['org.opencontainers.image.os'] = inp.config.os;
  if (inp.config.architecture) ann['org.opencontainers.image.architecture'] = inp.config.architecture;
  if (inp.config.author) ann['org.opencontainers.image.author'] = inp.config.author;
  if (inp.config.created) ann['org.opencontainers.image.created'] = inp.config.created;
  if (c.StopSignal) ann['org.opencontainers.image.stopSignal'] = c.StopSignal;
  const ports = Object.keys(c.ExposedPorts ?? {});
  if (ports.length) ann['org.opencontainers.image.exposedPorts'] = ports.join(',');
  if (inp.ref !== undefined) ann['org.opencontainers.image.ref.name'] = inp.ref;
  ann['org.opencontainers.image.manifest.digest'] = inp.manifest.digest;
  spec.annotations = ann;
  return spec;
}
