/**
 * `start`: claim the init's start socket (atomic rename), tell it to go,
 * wait for the exec, then run poststart hooks (docs/protocol.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntsError } from '../common/errors.js';
import { runHooks, stepTimeoutMs } from '../hooks/run.js';
import * as libc from '../linux/libc.js';
import { O, SOCK } from '../linux/abi.js';
import { STEP_TIMEOUT_MS } from '../protocol/boot-env.js';
import { Channel } from '../protocol/channel.js';
import type { Spec } from '../spec/types.js';
import { deriveStatus } from '../state/status.js';
import type { ContainerRecord, Store } from '../state/store.js';
import { killAndWait } from './wait.js';

export async function startContainer(store: Store, id: string, pre?: { rec: ContainerRecord; spec: Spec }): Promise<void> {
  const rec = pre?.rec ?? store.mustRead(id);
  const status = deriveStatus(store, rec);
  if (status !== 'created') {
    throw new RuntsError(`cannot start container "${id}": it is ${status}, not created`, { op: 'start' });
  }
  const dir = store.dir(id);
  const sock = path.join(dir, 'init.sock');
  const claimed = path.join(dir, 'init.sock.starting');
  try {
    fs.renameSync(sock, claimed);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new RuntsError(`cannot start container "${id}": it is already being started or has started`, { op: 'start' });
    }
    throw e;
  }
  const spec = pre?.spec ?? (store.config(id) as Spec);
  try {
    const fd = libc.socket(SOCK.STREAM);
    const dirfd = libc.open(dir, O.PATH | O.DIRECTORY);
    try {
      libc.connectUnix(fd, `/proc/self/fd/${dirfd}/init.sock.starting`);
    } catch (e) {
      libc.close(fd);
      throw e;
    } finally {
      libc.close(dirfd);
    }
    const chan = new Channel(fd, 'the container init');
    chan.send({ type: 'start' });
    // bounded unless a startContainer hook has no timeout: a hung init is an error, not a hang
    const execd = chan.awaitExec(stepTimeoutMs(STEP_TIMEOUT_MS, spec.hooks?.startContainer));
    chan.close();
    if (!execd) throw new RuntsError(`container "${id}" init exited before executing the process`, { op: 'start' });
    try {
      await runHooks('poststart', spec.hooks?.poststart, {
        ociVersion: rec.ociVersion, id, status: 'running', pid: rec.init?.pid, bundle: rec.bundle, annotations: rec.annotations,
      }, { cwd: rec.bundle });
    } catch (e) {
      // The spec: a failed poststart hook stops the container.
      if (rec.init) killAndWait(rec.init.pid, rec.init.startTime);
      throw e;
    }
  } finally {
    fs.rmSync(claimed, { force: true });
  }
}
