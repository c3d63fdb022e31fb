/**
 * runts entry point: `runts [global flags] <command> [flags] [args]`.
 * The hot path (parse → one handler) loads no CLI library; yargs is loaded
 * only to print help.
 */
import { writeSync } from 'node:fs';
import { describeError, recordError } from '../common/errors.js';
import { configureLog, logError } from '../common/log.js';
import { COMMIT, VERSION } from '../common/version.js';
import { HANDLERS } from './commands.js';
import { parseCommand, parseGlobal, UsageError } from './parse.js';
import { findCommand } from './table.js';

export { COMMIT, VERSION } from '../common/version.js';
export const SPEC_VERSION = '1.3.0';

async function printHelp(command?: string, toStderr = false): Promise<void> {
  // a separate bundle (dist/help.cjs), loaded only here; require, not import(): the bundles run as vm.Scripts (scripts/loader.cjs)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { helpText } = require('./help.js') as typeof import('./help.js');
  const text = (await helpText(command)) + '\n';
  writeSync(toStderr ? 2 : 1, text);
}

async function main(argv: string[]): Promise<number> {
  let g;
  try {
    g = parseGlobal(argv);
  } catch (e) {
    logError(describeError(e));
    return 1;
  }
  configureLog({ file: g.flags.log as string | undefined, format: g.flags['log-format'] === 'json' ? 'json' : 'text', debug: g.flags.debug === true });
  if (g.flags.version) {
    writeSync(1, `runts version ${VERSION}\ncommit: ${COMMIT}\nspec: ${SPEC_VERSION}\n`);
    return 0;
  }
  if (g.flags.help || g.command === undefined || g.command === 'help') {
    await printHelp(g.command === 'help' ? g.rest[0] : undefined, g.command === undefined && !g.flags.help);
    return g.command === undefined && !g.flags.help ? 1 : 0;
  }
  const cmd = findCommand(g.command);
  if (!cmd) {
    logError(`unknown command "${g.command}" (see runts --help)`);
    return 1;
  }
  try {
    if (g.flags['systemd-cgroup']) {
      throw new UsageError('--systemd-cgroup is not supported: runts has no systemd cgroup driver (use the cgroupfs default)');
    }
    if (!['auto', 'true', 'false'].includes(String(g.flags.rootless))) throw new UsageError(`--rootless: invalid value "${String(g.flags.rootless)}" (want true, false or auto)`);
    if (cmd.pending) throw new UsageError(`${cmd.pending} (runts ${cmd.name})`);
    const parsed = parseCommand(cmd, g.rest);
    if (parsed.flags.help) {
      await printHelp(cmd.name);
      return 0;
    }
    return await HANDLERS[cmd.name]!({ global: g.flags, flags: parsed.flags, args: parsed.args });
  } catch (e) {
    recordError(e);
    logError(describeError(e));
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    recordError(e);
    logError(describeError(e));
    process.exit(1);
  },
);
