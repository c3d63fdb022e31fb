#!/usr/bin/env node
// The official OCI runtime-tools validation suite (../shared/runtime-tools, the suite runc, crun and youki run in
// their CI) against runts: `npm run conformance:oci [FILE...]`.
//
// It builds the suite once into a cache (keyed by the suite's source), then runs each test program with a private
// TMPDIR and a private runtime root (through a wrapper that adds `--root`), cleans up after each file (containers,
// mounts under the TMPDIR, the `cgrouptest`/`testdir` cgroups the suite creates) and prints one line per file and a
// summary. A file passes when it exits 0, prints no `not ok`, every TAP plan matches what ran, and no stray YAML
// block (one not attached to a test line) reports an error. Files listed in expected-failures.json must fail for the
// reason written there; one that passes is reported ("expected failure passed"), and any other failing file fails
// the run.
//
// Env: RUNTS_OCI_RUNTIME=/usr/sbin/runc checks the suite (and the expected list) against another runtime;
// RUNTS_OCI_CACHE overrides the build cache; RUNTS_RUNTIME_TOOLS the suite's source dir.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tapVerdict } from './tap-verdict.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const suiteSrc = process.env.RUNTS_RUNTIME_TOOLS ?? path.resolve(repo, '../shared/runtime-tools');
const runtime = process.env.RUNTS_OCI_RUNTIME ?? path.join(repo, 'dist/runts.cjs');
const FILE_TIMEOUT_MS = 300_000;
const resultsDir = path.join(repo, 'conformance/.results/oci', path.basename(runtime));
const expected = JSON.parse(fs.readFileSync(path.join(here, 'expected-failures.json'), 'utf8'));
const ownRuntime = runtime === path.join(repo, 'dist/runts.cjs');

function fail(msg) {
  console.error(`oci-suite: ${msg}`);
  process.exit(2);
}

/** A key for the build cache: build.sh and the names and sizes of every source file. */
function sourceKey() {
  const h = createHash('sha256');
  h.update(fs.readFileSync(path.join(suiteSrc, 'build.sh')));
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) h.update(`${path.relative(suiteSrc, p)} ${fs.statSync(p).size}\n`);
    }
  };
  walk(path.join(suiteSrc, 'src'));
  return h.digest('hex').slice(0, 16);
}

function buildSuite() {
  if (!fs.existsSync(path.join(suiteSrc, 'build.sh'))) fail(`the suite's source is missing at ${suiteSrc}`);
  const cacheRoot = process.env.RUNTS_OCI_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'runts');
  const out = path.join(cacheRoot, `runtime-tools-${sourceKey()}`);
  if (fs.existsSync(path.join(out, '.complete'))) return out;
  for (const tool of ['go', 'make']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) fail(`building the suite needs ${tool} (apt-get install -y golang-go make)`);
  }
  fs.rmSync(out, { recursive: true, force: true });
  console.log(`oci-suite: building runtime-tools into ${out}`);
  const r = spawnSync('bash', [path.join(suiteSrc, 'build.sh'), out], { stdio: 'inherit' });
  if (r.status !== 0) fail('building the suite failed');
  fs.writeFileSync(path.join(out, '.complete'), new Date().toISOString() + '\n');
  return out;
}

/** Mount points at or below dir, deepest first. */
function mountsUnder(dir) {
  const unescape = (s) => s.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => unescape(l.split(' ')[4] ?? ''))
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/** The suite's fixed-name cgroups (linux_cgroups_*): kill what is left in them, then remove them, deepest first. */
function removeSuiteCgroups() {
  const found = [];
  const walk = (dir, depth) => {
    if (depth > 6) return;
    let entries;
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === 'cgrouptest' || e.name === 'testdir') found.push(p);
      walk(p, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  const left = [];
  for (const dir of found.sort((a, b) => b.length - a.length)) {
    try {
      for (const pid of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
    } catch { /* no procs file */ }
    for (let i = 0; i < 50; i++) {
      try { fs.rmdirSync(dir); break; } catch (e) {
        if (e.code === 'ENOENT') break;
        if (i === 49) left.push(`${dir} (${e.code})`);
        else spawnSync('sleep', ['0.1']);
      }
    }
  }
  return left;
}

function cleanup(root, tmp) {
  const left = [];
  let ids = [];
  try { ids = fs.readdirSync(root).filter((n) => !n.startsWith('.')); } catch { /* no root */ }
  for (const id of ids) {
    const r = spawnSync(runtime, ['--root', root, 'delete', '--force', id], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) left.push(`container ${id}: ${(r.stderr ?? '').trim()}`);
  }
  for (const m of mountsUnder(tmp)) {
    if (spawnSync('umount', ['-l', m]).status !== 0) left.push(`mount ${m}`);
  }
  left.push(...removeSuiteCgroups());
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(root, { recursive: true, force: true });
  return left;
}

function runFile(suite, name) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `runts-oci-${name}-`));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-oci-root-'));
  const wrapper = path.join(tmp, 'runtime');
  const calls = path.join(tmp, 'calls.log');
  // Every call is logged (the log is copied next to the TAP output), and gets the private root.
  fs.writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${runtime}' --root '${root}' "$@"\n`, { mode: 0o755 });
  const work = fs.mkdtempSync(path.join(tmp, 'tmp-'));
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(path.join(suite, 'validation', name, `${name}.t`), [], {
      cwd: suite,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', RUNTIME: wrapper, TMPDIR: work, HOME: process.env.HOME ?? '/root' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none left */ }
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      let log = '';
      try { log = fs.readFileSync(calls, 'utf8'); } catch { /* no call */ }
      fs.mkdirSync(resultsDir, { recursive: true });
      fs.writeFileSync(path.join(resultsDir, `${name}.tap`), out);
      fs.writeFileSync(path.join(resultsDir, `${name}.calls`), log);
      const left = cleanup(root, tmp);
      const reason = timedOut ? `timed out after ${FILE_TIMEOUT_MS / 1000} s` : tapVerdict(out, code, signal);
      resolve({ name, pass: reason === undefined, reason, seconds, left });
    });
  });
}

/** conformance/OCI-SUITE.md: every file's result from the last full run against runts (checked in, like COVERAGE.md). */
function writeReport(results, passed, xfail, failed) {
  const row = (r) => {
    const what = r.pass ? (expected[r.name] ? 'pass (listed as expected failure)' : 'pass') : expected[r.name] ? 'expected failure' : '**FAIL**';
    const why = r.pass ? '' : (expected[r.name] ?? r.reason ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
    return `| ${r.name} | ${what} | ${why} |`;
  };
  const text = [
    '# The OCI runtime-tools validation suite against runts',
    '',
    'Generated by `npm run conformance:oci` (conformance/oci/run.mjs) from its last full run; CI runs it after the tap',
    'suite. The suite is ../shared/runtime-tools (commit 260e151). Expected failures and their verified reasons are in',
    '`conformance/oci/expected-failures.json`; any other failing file fails CI.',
    '',
    `**${passed} of ${results.length} files pass**, ${xfail} expected failures, ${failed} unexpected failures.`,
    '',
    '| file | result | why it fails |',
    '|---|---|---|',
    ...results.map(row),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(repo, 'conformance/OCI-SUITE.md'), text);
}

async function main() {
  if (process.getuid?.() !== 0) fail('the suite needs root');
  if (!fs.existsSync(runtime)) fail(`no runtime at ${runtime} (run \`node scripts/build.mjs\`)`);
  const suite = buildSuite();
  const all = fs.readdirSync(path.join(suite, 'validation')).sort();
  for (const n of Object.keys(expected)) if (!all.includes(n)) fail(`expected-failures.json names ${n}, which the suite does not have`);
  const names = process.argv.slice(2).length ? process.argv.slice(2) : all;
  for (const n of names) if (!all.includes(n)) fail(`no test file ${n} (have: ${all.join(' ')})`);
  console.log(`oci-suite: ${names.length} files against ${runtime}`);
  const results = [];
  for (const name of names) {
    const r = await runFile(suite, name);
    results.push(r);
    const exp = expected[name];
    let line;
    if (r.pass && exp) line = `ok   ${name} (${r.seconds} s) -- expected failure passed: remove it from expected-failures.json`;
    else if (r.pass) line = `ok   ${name} (${r.seconds} s)`;
    else if (exp) line = `xfail ${name} (${r.seconds} s): ${r.reason} -- expected: ${exp}`;
    else line = `FAIL ${name} (${r.seconds} s): ${r.reason}`;
    console.log(line);
    if (r.left.length) console.log(`     left behind and could not be removed: ${r.left.join('; ')}`);
  }
  const passed = results.filter((r) => r.pass).length;
  const xfail = results.filter((r) => !r.pass && expected[r.name]).length;
  const unexpected = results.filter((r) => !r.pass && !expected[r.name]);
  const xpass = results.filter((r) => r.pass && expected[r.name]);
  const leaks = results.filter((r) => r.left.length);
  fs.mkdirSync(resultsDir, { recursive: true });
  if (ownRuntime && names.length === all.length) writeReport(results, passed, xfail, unexpected.length);
  console.log(`oci-suite: ${passed} of ${results.length} files pass; ${xfail} expected failures; ${unexpected.length} unexpected failures` +
    (xpass.length ? `; expected failures that passed: ${xpass.map((r) => r.name).join(' ')}` : '') +
    (leaks.length ? `; left-overs after: ${leaks.map((r) => r.name).join(' ')}` : ''));
  console.log(`oci-suite: ${passed} passed, ${unexpected.length} failed, ${xfail} skipped`);
  process.exit(unexpected.length || leaks.length ? 1 : 0);
}

await main();
