/**
 * `state` and `list` in the CLI's first stage (entry.ts), without the CLI.
 * This path only ever prints a successful answer, the text the CLI prints
 * (stateText, listText, after the same parse of the command line); anything
 * else, including every error and flag it does not handle, is left to the
 * CLI, which parses the command line again and reports as always (state and
 * list change nothing, so doing their reads twice is harmless).
 */
import { writeSync } from 'node:fs';
import { listText } from '../container/list.js';
import { stateRoot } from '../container/rootless.js';
import { StoreReader } from '../state/reader.js';
import { stateText } from '../state/status.js';
import { parseCommand, parseGlobal } from './parse.js';
import { findCommand } from './table.js';

/** The output of `state` or `list`, or undefined: the CLI's business. */
function answer(argv: string[]): string | undefined {
  try {
    const g = parseGlobal(argv);
    if (g.command !== 'state' && g.command !== 'list') return undefined;
    // what main.ts does or refuses before any command
    if (g.flags.help || g.flags.version || g.flags.debug || g.flags['systemd-cgroup'] || g.flags.rootless === 'true') return undefined;
    const cmd = findCommand(g.command);
    if (!cmd || cmd.pending) return undefined;
    const p = parseCommand(cmd, g.rest);
    if (p.flags.help) return undefined;
    // the CLI's rule: /run/runts for root, $XDG_RUNTIME_DIR/runts for a user
    const store = new StoreReader(stateRoot(g.flags.root));
    return cmd.name === 'state' ? stateText(store, p.args[0]!) : listText(store, p.flags);
  } catch {
    return undefined;
  }
}

function written(text: string): boolean {
  try {
    // as the CLI's out(): one write; a failed write(2) wrote nothing, and the CLI reports it
    writeSync(1, text);
    return true;
  } catch {
    return false;
  }
}

/** Whether `argv` was `state` or `list` and its answer is written; false: the CLI's business. */
export function quickAnswer(argv: string[]): boolean {
  const text = answer(argv);
  return text !== undefined && written(text);
}
