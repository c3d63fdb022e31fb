/**
 * Help and usage text, rendered by yargs from the same table the fast parser
 * uses. Loaded only for --help, `runts help` and usage errors.
 */
import yargs from 'yargs';
import { COMMANDS, type FlagSpec, GLOBAL_FLAGS } from './table.js';

type Opt = { alias?: string[]; type: 'boolean' | 'string' | 'number' | 'array'; describe: string; default?: unknown; choices?: string[] };

function toOptions(flags: FlagSpec[]): Record<string, Opt> {
  const out: Record<string, Opt> = {};
  for (const f of flags) {
    if (f.name === 'help' || f.name === 'version') continue;
    out[f.name] = {
      alias: f.aliases,
      type: f.type === 'strings' ? 'array' : f.type,
      describe: f.describe,
      default: f.default,
      choices: f.choices,
    };
  }
  return out;
}

function build(): ReturnType<typeof yargs> {
  let y = yargs([])
    .scriptName('runts')
    .usage('runts [global options] <command> [command options] [arguments...]\n\nrunts is an OCI runtime-spec 1.3 container runtime (a runc analogue) written in TypeScript.')
    .options(toOptions(GLOBAL_FLAGS))
    .wrap(Math.min(110, process.stdout.columns || 100))
    .version(false)
    .help(false);
  for (const c of COMMANDS) {
    const desc = c.pending ? `${c.describe} (not implemented yet)` : c.describe;
    y = y.command(`${c.name} ${c.positionals.replace(/<([^>]*)>/g, '<$1>')}`.trim(), desc, (sub) => sub.options(toOptions(c.flags)));
  }
  return y;
}

export async function helpText(command?: string): Promise<string> {
  if (command) {
    const c = COMMANDS.find((x) => x.name === command);
    if (c) {
      const y = yargs([])
        .scriptName('runts')
        .usage(`runts ${c.name} [command options] ${c.positionals}\n\n${c.describe}${c.pending ? ' (not implemented yet)' : ''}`)
        .options(toOptions(c.flags))
        .wrap(Math.min(110, process.stdout.columns || 100))
        .version(false)
        .help(false);
      return await y.getHelp();
    }
  }
  return await build().getHelp();
}
