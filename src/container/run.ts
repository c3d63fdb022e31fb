/**
 * `run`: create + start, then (unless --detach) forward signals to the
 * container, wait for it and return its exit status (128+signal when
 * killed); delete it afterwards unless --keep.
 */
import * as libc from '../linux/libc.js';
import { PR, SOCK } from '../linux/abi.js';
import { logDebugAt } from '../common/log.js';
import { signalNumber } from '../linux/signals.js';
import type { Store } from '../state/store.js';
import { createContainer, type CreateOptions } from './create.js';
import { deleteContainer } from './delete.js';
import { signalInit } from './kill.js';
import { startContainer } from './start.js';
import { forwardTerminal, receiveMaster } from './terminal.js';
import { waitExit } from './wait.js';

export interface RunOptions extends CreateOptions { detach: boolean; keep: boolean }

const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

export async function runContainer(store: Store, opts: RunOptions): Promise<number> {
  if (!opts.detach) libc.prctl(PR.SET_CHILD_SUBREAPER, 1, 0, 0, 0, 'prctl(PR_SET_CHILD_SUBREAPER)');
  let localConsole: number | undefined;
  const createOpts: CreateOptions = { ...opts };
  if (!opts.detach && opts.consoleFd === undefined) {
    const [mine, theirs] = libc.socketpair(SOCK.STREAM);
    localConsole = mine;
    createOpts.consoleFd = theirs;
    createOpts.consoleOnlyIfTerminal = true;
  }
  let created;
  try {
    created = await createContainer(store, createOpts);
  } finally {
    if (createOpts.consoleFd !== undefined && localConsole !== undefined) libc.close(createOpts.consoleFd);
  }
  created.lock.release();
  let stopTerminal: (() => void) | undefined;
  if (localConsole !== undefined) {
    if (created.spec.process?.terminal) stopTerminal = forwardTerminal(receiveMaster(localConsole));
    libc.close(localConsole);
  }
  try {
    await startContainer(store, opts.id, created);
  } catch (e) {
    // As runc: a run whose start failed leaves nothing behind.
    stopTerminal?.();
    await deleteContainer(store, opts.id, true, created.rec.bundle).catch(() => { /* the start error is the one to report */ });
    throw e;
  }
  logDebugAt('run: started');
  if (opts.detach) return 0;

  const pid = created.rec.init!.pid;
  const handlers = FORWARDED.map((name) => {
    const h = () => { try { signalInit(created.rec, signalNumber(name)!); } catch { /* exited */ } };
    if (!(name === 'SIGWINCH' && stopTerminal)) process.on(name, h);
    return [name, h] as const;
  });
  const code = await waitExit(pid);
  logDebugAt('run: exited');
  for (const [name, h] of handlers) process.off(name, h);
  stopTerminal?.();
  if (!opts.keep) await deleteContainer(store, opts.id, true, created.rec.bundle);
  logDebugAt('run: deleted');
  return code;
}
