/**
 * `runts image ...`: its own bundle (dist/image.cjs), loaded by the CLI only
 * for this command group, so no other command pays for it.
 *   unpack LAYOUT[:REF] BUNDLE [--shared [--store DIR]]
 *   remove BUNDLE       unmount (shared), delete the bundle, drop its store ref
 *   mount BUNDLE        mount a shared bundle's overlay again (after a reboot)
 *   prune [--store DIR] remove store layers no bundle uses
 */
import * as fs from 'node:fs';
import { configureLog } from '../common/log.js';
import { RuntsError } from '../common/errors.js';
import { mountBundle, pruneStore, removeBundle } from './bundle.js';
import { DEFAULT_STORE } from './store.js';
import { unpackImage } from './unpack.js';

type Flags = Record<string, string | number | boolean | string[] | undefined>;

const USAGE = 'usage: runts image unpack [--shared] [--store DIR] LAYOUT[:REF] BUNDLE | remove BUNDLE | mount BUNDLE | prune [--store DIR]';

function want(sub: string, args: string[], n: number): void {
  if (args.length !== n) throw new RuntsError(`image ${sub} takes ${n} argument(s), got ${args.length}: ${USAGE}`);
}

export async function imageCommand(args: string[], flags: Flags, global: Flags): Promise<number> {
  configureLog({ file: global.log as string | undefined, format: global['log-format'] === 'json' ? 'json' : 'text', debug: global.debug === true });
  const [sub, ...rest] = args;
  const store = String(flags.store ?? DEFAULT_STORE);
  switch (sub) {
    case 'unpack':
      want(sub, rest, 2);
      await unpackImage({ image: rest[0]!, bundle: rest[1]!, shared: flags.shared === true ? store : undefined });
      return 0;
    case 'remove':
      want(sub, rest, 1);
      removeBundle(rest[0]!);
      return 0;
    case 'mount':
      want(sub, rest, 1);
      mountBundle(rest[0]!);
      return 0;
    case 'prune': {
      want(sub, rest, 0);
      const r = pruneStore(store);
      fs.writeSync(1, `removed ${r.layers.length} layer(s), ${r.refs} stale ref(s), ${r.temps} temporary dir(s)\n`);
      return 0;
    }
    default:
      throw new RuntsError(`unknown image command ${JSON.stringify(sub)}: ${USAGE}`);
  }
}
