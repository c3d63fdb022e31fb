#!/usr/bin/env node
// Runs the tap suites by privilege and ends with one line "N passed, M failed[, K skipped]" over all of them.
//   node scripts/test.mjs          unit tests (test/unit, in parallel), then the kernel tests (everything else in
//                                  the tap config's include, as root, one file at a time)
//   node scripts/test.mjs unit     only the unit tests: no root needed
// Extra arguments go to tap. The unit tests run as any user: when this user cannot write the project dir (tap keeps
// its .tap/ there), tap runs from a temp project dir that links to this one.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..');
const TAP = path.join(REPO, 'node_modules/.bin/tap');
const SUMMARY = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/;

const [group = 'all', ...extra] = process.argv.slice(2);
if (!['all', 'unit', 'kernel'].includes(group)) {
  console.error(`usage: node scripts/test.mjs [all|unit|kernel] [tap args...] (got ${group})`);
  process.exit(2);
}

/** A project dir tap may write to: this one, or a temp dir whose entries link to this one's. */
function projectDir() {
  try {
    fs.accessSync(REPO, fs.constants.W_OK);
    return { dir: REPO, cleanup: () => {} };
  } catch { /* read-only for this user */ }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-tap-'));
  for (const name of fs.readdirSync(REPO)) {
    if (name !== '.tap') fs.symlinkSync(path.join(REPO, name), path.join(dir, name));
  }
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Run tap with `args` from `cwd`; pass its output through except the summary line, which is returned. */
function tap(cwd, args) {
  return new Promise((resolve) => {
    const child = spawn(TAP, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    const counts = { pass: 0, fail: 0, skip: 0, seen: false };
    let rest = '';
    const line = (l) => {
      const m = SUMMARY.exec(l);
      if (m) Object.assign(counts, { pass: Number(m[1]), fail: Number(m[2]), skip: Number(m[3] ?? 0), seen: true });
      else process.stdout.write(l + '\n');
    };
    child.stdout.on('data', (d) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop();
      lines.forEach(line);
    });
    child.on('close', (code, signal) => {
      if (rest) line(rest);
      resolve({ ...counts, ok: code === 0 && !signal });
    });
  });
}

const jobs = Math.max(2, os.availableParallelism());
const phases = [];
if (group !== 'kernel') phases.push(['--jobs', String(jobs), 'test/unit/**/*.test.ts']);
// the include globs of the tap config (package.json), minus the unit tests
if (group !== 'unit') phases.push(['--jobs', '1', '--exclude', 'test/unit/**']);

const project = projectDir();
const total = { pass: 0, fail: 0, skip: 0 };
let ok = true;
try {
  for (const args of phases) {
    const r = await tap(project.dir, [...args, ...extra]);
    total.pass += r.pass;
    total.fail += r.fail || (r.ok ? 0 : 1); // tap failed without counting a failure (e.g. a crash)
    total.skip += r.skip;
    ok &&= r.ok;
  }
} finally {
  project.cleanup();
}
console.log(`${total.pass} passed, ${total.fail} failed${total.skip ? `, ${total.skip} skipped` : ''}`);
process.exit(ok ? 0 : 1);
