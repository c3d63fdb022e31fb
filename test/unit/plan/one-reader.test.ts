/**
 * The config is interpreted in one place (issue 14): linux.namespaces is read
 * by src/plan/namespaces.ts only, the host facts are read by
 * src/plan/host-facts.ts only, and nothing outside src/plan/ builds a plan.
 * (src/spec/default-spec.ts writes runts's own default namespaces: it makes
 * a config, it does not read one.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';

const SRC = path.resolve(__dirname, '../../../src');

function sources(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Files (relative to src/) whose code, comments and single-quoted strings left out, matches `re`. */
function readers(re: RegExp): string[] {
  return sources().filter((f) => {
    const code = fs.readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/'(?:[^'\\\n]|\\.)*'/g, "''");
    return re.test(code);
  }).map((f) => path.relative(SRC, f)).sort();
}

t.test('linux.namespaces: one reader', async (t) => {
  t.same(readers(/linux\??\.namespaces\b/), ['plan/namespaces.ts', 'spec/default-spec.ts'], 'only plan/namespaces.ts reads it from a config');
  t.same(readers(/namespaceEntries\(/), ['plan/namespaces.ts', 'spec/semantic-linux.ts'], 'validation reads the entries through it');
});

t.test('host facts: read in one place, by one function', async (t) => {
  t.same(readers(/\b(detectLsm|lastCap)\(\)|ownCapabilitySet\('CapBnd'\)/), ['linux/capabilities.ts', 'linux/lsm.ts', 'plan/host-facts.ts'],
    'cap_last_cap, the CLI\'s bounding set and the LSMs: defined in src/linux, called only by gatherHostFacts');
});

t.test('plans are built in src/plan only', async (t) => {
  const outside = (re: RegExp) => readers(re).filter((f) => !f.startsWith('plan/'));
  t.same(outside(/(?<!function )\b(planRootfs|planMount|planProcess|planSeccomp|createNamespaces|execJoinArgs|planExecAffinity)\(/), [], 'the inner planners are called by src/plan only');
  t.same(outside(/\b(planCreate|buildInitPlan)\(/), ['container/create.ts'], 'create calls the create and init plans');
  t.same(outside(/\b(planExecLaunch|buildExecPlan)\(/), ['container/exec.ts'], 'exec calls the exec plan');
});
