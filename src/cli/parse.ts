/**
 * The fast argument parser, driven by table.ts. It accepts what runc's
 * (Go flag / urfave-cli) parser accepts: `--name value`, `--name=value`,
 * single-dash long names (`-bundle x`), short aliases (`-b x`), boolean
 * flags with an optional `=true|false`, `--` to end flags, and flags after
 * positionals (except after the command of `exec`).
 */
import { RuntsError } from '../common/errors.js';
import { type CommandSpec, type FlagSpec, GLOBAL_FLAGS } from './table.js';

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export class UsageError extends RuntsError {
  constructor(message: string, readonly command?: string) {
    super(message);
  }
}

export interface ParsedGlobal { flags: FlagValues; command?: string; rest: string[] }
export interface ParsedCommand { flags: FlagValues; args: string[] }

function lookup(flags: FlagSpec[], name: string): FlagSpec | undefined {
  return flags.find((f) => f.name === name || f.aliases?.includes(name));
}

function defaults(flags: FlagSpec[]): FlagValues {
  const out: FlagValues = {};
  for (const f of flags) if (f.default !== undefined) out[f.name] = f.default;
  return out;
}

function convert(f: FlagSpec, raw: string, where: string): string | number | boolean {
  if (f.type === 'boolean') {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new UsageError(`invalid boolean value "${raw}" for flag --${f.name}${where}`);
  }
  if (f.type === 'number') {
    if (!/^-?[0-9]+$/.test(raw)) throw new UsageError(`invalid value "${raw}" for flag --${f.name}${where}: must be an integer`);
    return Number(raw);
  }
  if (f.choices && !f.choices.includes(raw)) {
    throw new UsageError(`invalid value "${raw}" for flag --${f.name}${where}: must be one of ${f.choices.join(', ')}`);
  }
  return raw;
}

/**
 * Consume one flag at argv[i]; returns the index of the last token used,
 * or -1 when argv[i] is not a flag.
 */
function takeFlag(specs: FlagSpec[], argv: string[], i: number, out: FlagValues, where: string): number {
  const tok = argv[i]!;
  if (tok === '-' || !tok.startsWith('-')) return -1;
  const body = tok.replace(/^--?/, '');
  const eq = body.indexOf('=');
  const name = eq >= 0 ? body.slice(0, eq) : body;
  const f = lookup(specs, name);
  if (!f) throw new UsageError(`flag provided but not defined: ${tok.startsWith('--') ? '--' : '-'}${name}${where}`);
  let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
  let last = i;
  if (f.type === 'boolean') {
    out[f.name] = value === undefined ? true : convert(f, value, where);
    return last;
  }
  if (value === undefined) {
    if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: ${tok}${where}`);
    value = argv[++last]!;
  }
  if (f.type === 'strings') {
    const prev = out[f.name];
    out[f.name] = [...(Array.isArray(prev) ? prev : []), value];
  } else {
    out[f.name] = convert(f, value, where);
  }
  return last;
}

/** Global flags, then the command name and its raw arguments. */
export function parseGlobal(argv: string[]): ParsedGlobal {
  const flags = defaults(GLOBAL_FLAGS);
  let i = 0;
  for (; i < argv.length; i++) {
    if (argv[i] === '--') { i++; break; }
    const last = takeFlag(GLOBAL_FLAGS, argv, i, flags, '');
    if (last < 0) break;
    i = last;
  }
  return { flags, command: argv[i], rest: argv.slice(i + 1) };
}

export function parseCommand(cmd: CommandSpec, argv: string[]): ParsedCommand {
  const where = ` (runts ${cmd.name})`;
  const specs = [...cmd.flags, { name: 'help', aliases: ['h'], type: 'boolean' as const, describe: '' }];
  const flags = defaults(cmd.flags);
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (cmd.restAfter !== undefined && args.length >= cmd.restAfter + 1) { args.push(tok); continue; }
    if (tok === '--') { args.push(...argv.slice(i + 1)); break; }
    const last = cmd.restAfter !== undefined && args.length === cmd.restAfter ? -1 : takeFlag(specs, argv, i, flags, where);
    if (last < 0) { args.push(tok); continue; }
    i = last;
  }
  if (flags.help) return { flags, args };
  if (args.length < cmd.minArgs) {
    throw new UsageError(`"${cmd.name}" requires ${cmd.positionals.split(' ')[0]}: usage: runts ${cmd.name} [flags] ${cmd.positionals}`, cmd.name);
  }
  if (cmd.maxArgs !== undefined && args.length > cmd.maxArgs) {
    throw new UsageError(`"${cmd.name}" takes at most ${cmd.maxArgs} argument(s), got ${args.length}: usage: runts ${cmd.name} [flags] ${cmd.positionals}`.trim(), cmd.name);
  }
  return { flags, args };
}
