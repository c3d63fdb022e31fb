/**
 * What each command does, given parsed flags. Heavy modules are imported
 * lazily so that `state`, `kill` or `list` never load the validators.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntsError } from '../common/errors.js';
import { Store } from '../state/store.js';
import { hostRootlessFacts, rootlessMode, stateRoot } from '../container/rootless.js';
import type { FlagValues } from './parse.js';
import { O, SOCK } from '../linux/abi.js';

export interface Invocation { global: FlagValues; flags: FlagValues; args: string[] }

function store(inv: Invocation): Store {
  return new Store(stateRoot(inv.global.root));
}

function out(text: string): void {
  fs.writeSync(1, text);
}

/** Connect --console-socket; long paths go through the directory's fd. */
async function connectConsole(p: string): Promise<number> {
  const libc = await import('../linux/libc.js');
  const fd = libc.socket(SOCK.STREAM);
  const abs = path.resolve(p);
  try {
    if (Buffer.byteLength(abs) < 100) {
      libc.connectUnix(fd, abs);
    } else {
      const dirfd = libc.open(path.dirname(abs), O.PATH | O.DIRECTORY);
      try { libc.connectUnix(fd, `/proc/self/fd/${dirfd}/${path.basename(abs)}`); } finally { libc.close(dirfd); }
    }
  } catch (e) {
    libc.close(fd);
    throw new RuntsError(`--console-socket ${p}: ${(e as Error).message}`, { op: 'connect', path: p });
  }
  return fd;
}

function extraFds(flags: FlagValues): number {
  const n = Number(flags['preserve-fds'] ?? 0);
  if (n < 0) throw new RuntsError(`--preserve-fds must be >= 0, got ${n}`);
  const listen = process.env.LISTEN_FDS ? Number(process.env.LISTEN_FDS) : 0;
  if (!Number.isInteger(listen) || listen < 0) throw new RuntsError(`LISTEN_FDS is not a number: "${process.env.LISTEN_FDS}"`);
  return n + listen;
}

async function createOptions(inv: Invocation) {
  const consoleFd = inv.flags['console-socket'] ? await connectConsole(String(inv.flags['console-socket'])) : undefined;
  return {
    id: inv.args[0]!,
    bundle: String(inv.flags.bundle ?? process.cwd()),
    consoleFd,
    pidFile: inv.flags['pid-file'] as string | undefined,
    noPivot: inv.flags['no-pivot'] === true,
    noNewKeyring: inv.flags['no-new-keyring'] === true,
    preserveFds: extraFds(inv.flags),
    listenFds: process.env.LISTEN_FDS ? Number(process.env.LISTEN_FDS) : 0,
    rootless: rootlessMode(inv.global.rootless as string | undefined, hostRootlessFacts()),
  };
}

export const HANDLERS: Record<string, (inv: Invocation) => Promise<number>> = {
  async create(inv) {
    const { createContainer } = await import('../container/create.js');
    const c = await createContainer(store(inv), await createOptions(inv));
    c.lock.release();
    return 0;
  },

  async run(inv) {
    const { runContainer } = await import('../container/run.js');
    return await runContainer(store(inv), { ...(await createOptions(inv)), detach: inv.flags.detach === true, keep: inv.flags.keep === true });
  },

  async start(inv) {
    const { startContainer } = await import('../container/start.js');
    await startContainer(store(inv), inv.args[0]!);
    return 0;
  },

  async state(inv) {
    const { stateText } = await import('../state/status.js');
    out(stateText(store(inv), inv.args[0]!));
    return 0;
  },

  async kill(inv) {
    const { killContainer } = await import('../container/kill.js');
    const { parseSignal } = await import('../linux/signals.js');
    const flag = inv.flags.signal as string | undefined;
    if (flag !== undefined && inv.args[1] !== undefined && parseSignal(flag) !== parseSignal(inv.args[1])) {
      throw new RuntsError(`kill: --signal ${flag} and the signal argument ${inv.args[1]} disagree`, { op: 'kill' });
    }
    killContainer(store(inv), inv.args[0]!, parseSignal(flag ?? inv.args[1] ?? 'SIGTERM'), inv.flags.all === true);
    return 0;
  },

  async delete(inv) {
    const { deleteContainer } = await import('../container/delete.js');
    await deleteContainer(store(inv), inv.args[0]!, inv.flags.force === true);
    return 0;
  },

  async list(inv) {
    const { listText } = await import('../container/list.js');
    out(listText(store(inv), inv.flags));
    return 0;
  },

  async spec(inv) {
    const { defaultSpec } = await import('../spec/default-spec.js');
    const dir = path.resolve(String(inv.flags.bundle ?? process.cwd()));
    const file = path.join(dir, 'config.json');
    if (fs.existsSync(file)) throw new RuntsError(`file ${file} exists; remove it first`, { path: file, errno: 'EEXIST' });
    fs.writeFileSync(file, JSON.stringify(defaultSpec({ rootless: inv.flags.rootless === true }), null, '\t') + '\n', { mode: 0o644 });
    return 0;
  },

  async features() {
    const { features } = await import('../spec/features.js');
    out(JSON.stringify(features(), null, 4) + '\n');
    return 0;
  },

  async exec(inv) {
    const { execInContainer } = await import('../container/exec.js');
    const { logError } = await import('../common/log.js');
    const { describeError } = await import('../common/errors.js');
    const strings = (k: string) => (inv.flags[k] as string[] | undefined) ?? [];
    try {
      const consoleFd = inv.flags['console-socket'] ? await connectConsole(String(inv.flags['console-socket'])) : undefined;
      return await execInContainer(store(inv), {
        id: inv.args[0]!,
        flags: {
          args: inv.args.slice(1),
          env: strings('env'),
          cwd: inv.flags.cwd as string | undefined,
          user: inv.flags.user as string | undefined,
          additionalGids: strings('additional-gids').flatMap((g) => g.split(',')),
          tty: inv.flags.tty === true,
          caps: strings('cap'),
          noNewPrivs: inv.flags['no-new-privs'] === true,
          apparmor: inv.flags.apparmor as string | undefined,
          processLabel: inv.flags['process-label'] as string | undefined,
        },
        processFile: inv.flags.process as string | undefined,
        consoleFd,
        pidFile: inv.flags['pid-file'] as string | undefined,
        detach: inv.flags.detach === true,
        preserveFds: extraFds(inv.flags),
        ignorePaused: inv.flags['ignore-paused'] === true,
        cgroup: strings('cgroup')[0],
      });
    } catch (e) {
      // runc's convention: 255 when the runtime itself fails, so the command's own codes stay distinct.
      (await import('../common/errors.js')).recordError(e);
      logError(describeError(e));
      return 255;
    }
  },

  async ps(inv) {
    const { containerPs } = await import('../container/ps.js');
    out(containerPs(store(inv), inv.args[0]!, String(inv.flags.format ?? 'table'), inv.args.slice(1)));
    return 0;
  },

  async pause(inv) {
    const { pauseContainer } = await import('../container/pause.js');
    pauseContainer(store(inv), inv.args[0]!);
    return 0;
  },

  async resume(inv) {
    const { resumeContainer } = await import('../container/pause.js');
    resumeContainer(store(inv), inv.args[0]!);
    return 0;
  },

  async events(inv) {
    const { containerEvents } = await import('../container/events.js');
    return await containerEvents(store(inv), inv.args[0]!, { stats: inv.flags.stats === true, interval: String(inv.flags.interval ?? '5s') });
  },

  async update(inv) {
    const { updateContainer } = await import('../container/update.js');
    await updateContainer(store(inv), inv.args[0]!, inv.flags);
    return 0;
  },

  async validate(inv) {
    const { loadConfig } = await import('../spec/validate.js');
    const { logWarning } = await import('../common/log.js');
    const dir = path.resolve(String(inv.flags.bundle ?? process.cwd()));
    loadConfig(dir, { onWarning: (w) => logWarning(w.message) });
    out(`${path.join(dir, 'config.json')}: valid\n`);
    return 0;
  },

  async image(inv) {
    // a separate bundle (dist/image.cjs), loaded only here; require, not import(): dist/image.cjs is a stub that loads the bundle with its code cache
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { imageCommand } = require('../image/main.js') as typeof import('../image/main.js');
    return await imageCommand(inv.args, inv.flags, inv.global);
  },
};
