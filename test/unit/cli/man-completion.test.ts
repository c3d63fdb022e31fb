/**
 * The man pages and the bash completion are generated from the CLI table
 * (scripts/build-extras.mjs): every command, flag and alias of the table is
 * in them, and package.json installs exactly the generated pages.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { COMMANDS, type FlagSpec, GLOBAL_FLAGS } from '../../../src/cli/table.js';

const REPO = path.resolve(__dirname, '../../..');
type Table = { COMMANDS: typeof COMMANDS; GLOBAL_FLAGS: typeof GLOBAL_FLAGS };
type Extras = {
  manPages(table: Table, info: { version: string; commit: string }): Record<string, string>;
  bashCompletion(table: Table): string;
};

async function extras(): Promise<Extras> {
  return import(pathToFileURL(path.join(REPO, 'scripts/build-extras.mjs')).href);
}

/** A flag name as the roff source writes it: \fB\-\-bundle\fR, \fB\-b\fR. */
const roffFlag = (n: string) => `\\fB${(n.length === 1 ? `-${n}` : `--${n}`).replace(/-/g, '\\-')}\\fR`;
const cliFlag = (n: string) => (n.length === 1 ? `-${n}` : `--${n}`);
const names = (f: FlagSpec) => [f.name, ...(f.aliases ?? [])];

t.test('every command has a page naming each of its flags and aliases', async (t) => {
  const pages = (await extras()).manPages({ COMMANDS, GLOBAL_FLAGS }, { version: '9.9.9', commit: 'abc' });
  t.same(Object.keys(pages).sort(), ['runts.8', ...COMMANDS.map((c) => `runts-${c.name}.8`)].sort(), 'runts.8 and one page per command');
  const main = pages['runts.8']!;
  for (const f of GLOBAL_FLAGS) for (const n of names(f)) t.ok(main.includes(roffFlag(n)), `runts(8) has global flag ${cliFlag(n)}`);
  for (const c of COMMANDS) {
    t.ok(main.includes(`\\fB${c.name}\\fR`), `runts(8) lists ${c.name}`);
    const page = pages[`runts-${c.name}.8`]!;
    t.match(page, new RegExp(`^\\.TH RUNTS\\\\-${c.name.toUpperCase().replace(/-/g, '\\\\\\\\-')} 8 `, 'm'), `runts-${c.name}(8) has its title`);
    for (const f of c.flags) for (const n of names(f)) t.ok(page.includes(roffFlag(n)), `runts-${c.name}(8) has ${cliFlag(n)}`);
  }
  t.match(main, /"runts 9\.9\.9"/, 'the version is in the page footer');
});

t.test('the completion offers every command, flag and alias', async (t) => {
  const text = (await extras()).bashCompletion({ COMMANDS, GLOBAL_FLAGS });
  const words = (re: RegExp) => new Set([...text.matchAll(re)].flatMap((m) => m[1]!.split(' ')));
  const offered = words(/compgen -W '([^']*)'/g);
  for (const c of COMMANDS) t.ok(offered.has(c.name), `command ${c.name}`);
  for (const f of GLOBAL_FLAGS) for (const n of names(f)) t.ok(offered.has(cliFlag(n)), `global flag ${cliFlag(n)}`);
  for (const c of COMMANDS) {
    const arm = text.slice(text.indexOf(`\n    ${c.name})\n`));
    const own = new Set(/compgen -W '([^']*) --help'/.exec(arm)?.[1]?.split(' ') ?? []);
    for (const f of c.flags) for (const n of names(f)) t.ok(own.has(cliFlag(n)), `${c.name} ${cliFlag(n)}`);
  }
});

t.test('the completion is valid bash and completes', { skip: spawnSync('bash', ['-c', 'true']).status === 0 ? false : 'no bash' }, async (t) => {
  const text = (await extras()).bashCompletion({ COMMANDS, GLOBAL_FLAGS });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'completion-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'runts.bash'), text);
  const complete = (...words: string[]) => {
    const script = `source ${dir}/runts.bash; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _runts; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['--norc', '-c', script], { encoding: 'utf8' });
    t.equal(r.status, 0, `bash ran: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean).sort();
  };
  t.same(complete('runts', 'cr'), ['create'], 'a command');
  t.same(complete('runts', '--root', '/x', 'ki'), ['kill'], 'a command after a global flag with a value');
  t.same(complete('runts', 'list', '--format', ''), ['json', 'table'], "a flag's choices");
  t.ok(complete('runts', 'exec', '--').includes('--preserve-fds'), "a command's flags");
});

t.test('package.json installs exactly the generated pages', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { man: string[] };
  const want = ['runts.8', ...COMMANDS.map((c) => `runts-${c.name}.8`)].map((f) => `./dist/man/${f}`).sort();
  t.same([...pkg.man].sort(), want, 'package.json "man" (add a new command\'s page there)');
});

t.test('the pages render without groff warnings', { skip: spawnSync('sh', ['-c', 'command -v groff']).status === 0 ? false : 'groff is not installed' }, async (t) => {
  const pages = (await extras()).manPages({ COMMANDS, GLOBAL_FLAGS }, { version: '1', commit: 'x' });
  for (const [name, text] of Object.entries(pages)) {
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: text, encoding: 'utf8' });
    t.equal(r.stderr, '', `${name}: no warnings`);
  }
});
