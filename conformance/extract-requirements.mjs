#!/usr/bin/env node
/**
 * Extract every MUST / MUST NOT / REQUIRED / SHALL sentence from the OCI
 * runtime-spec documents runts implements and the OCI runtime CLI contract,
 * give each a stable id, and merge in the hand-written status mapping.
 *
 *   node conformance/extract-requirements.mjs [--spec DIR] [--cli FILE] [--check]
 *
 * Id: <file>#<section>/<n>
 *   <section> is the GitHub anchor of the enclosing heading (lower-case slug of
 *   its text, "-1", "-2" for repeated headings), <n> the 1-based ordinal of the
 *   requirement sentence inside that section. A sentence with several keywords
 *   is one requirement.
 *
 * Inputs (hand-maintained, never rewritten by this script):
 *   conformance/mapping.json   id -> { status: "not-applicable"|"not-testable-here", reason }
 *                                 or { tests: ["test/...: name", ...], note? } for tests outside conformance/
 *   conformance/*.test.ts,
 *   conformance/engines/*.test.ts,
 *   test/security-regressions/*.test.ts
 *                              check('name', ['id', ...], ...) and rejects('name', ['id', ...], ...) calls:
 *                              the test ids that exercise a requirement
 * Output (generated):
 *   conformance/requirements.json   every requirement with its sentence and status
 *
 * With --check the script exits non-zero when a requirement has no status or a
 * mapping/test names an id that does not exist (stale after a spec update).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
}

const SPEC_DIR = arg('--spec', '/work/shared/oci-runtime-spec');
const CLI_FILE = arg('--cli', '/work/shared/oci-runtime-cli/command-line-interface.md');
const CHECK = process.argv.includes('--check');

export const SOURCES = [
  { file: 'runtime.md', path: path.join(SPEC_DIR, 'runtime.md') },
  { file: 'runtime-linux.md', path: path.join(SPEC_DIR, 'runtime-linux.md') },
  { file: 'config.md', path: path.join(SPEC_DIR, 'config.md') },
  { file: 'config-linux.md', path: path.join(SPEC_DIR, 'config-linux.md') },
  { file: 'command-line-interface.md', path: CLI_FILE },
];

const KEYWORD = /\b(MUST NOT|MUST|REQUIRED|SHALL NOT|SHALL)\b/;

/** GitHub's heading anchor: lower-case, drop punctuation, spaces to hyphens. */
function slug(text) {
  return text
    .replace(/<a name="[^"]*"\s*\/?>(<\/a>)?/g, '')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Markdown inline to plain text: links to their text, footnote refs dropped. */
function plain(s) {
  return s
    .replace(/\[\^[0-9]+\]/g, '')
    .replace(/\[([^\]]*)\]\[[^\]]*\]/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\*\*/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Split a block of prose into sentences (the spec mostly uses one per line already). */
function sentences(block) {
  const text = block.replace(/\s+/g, ' ').trim();
  const out = [];
  let start = 0;
  const re = /[.!?](?=\s+(?:[A-Z`*[(_]|\d))/g;
  let m;
  while ((m = re.exec(text))) {
    const before = text.slice(Math.max(0, m.index - 5), m.index + 1);
    if (/\b(e\.g|i\.e|etc|vs|cf)\.$/i.test(before)) continue;
    out.push(text.slice(start, m.index + 1).trim());
    start = m.index + 1;
  }
  const rest = text.slice(start).trim();
  if (rest) out.push(rest);
  return out;
}

/** Parse one markdown file into requirement records. */
export function extract(file, source) {
  const lines = source.split('\n');
  const reqs = [];
  const seen = new Map();
  let section = { anchor: slug(file.replace(/\.md$/, '')), title: file };
  let counter = 0;
  let inCode = false;
  let block = [];

  const flush = () => {
    if (block.length === 0) return;
    const isTable = block[0].trimStart().startsWith('|');
    const text = isTable
      ? block[0].split('|').map((c) => c.trim()).filter(Boolean).join(' | ')
      : block.join(' ');
    block = [];
    const parts = isTable ? [text] : sentences(text);
    for (const s of parts) {
      const k = KEYWORD.exec(s);
      if (!k) continue;
      counter += 1;
      const sentence = plain(s);
      reqs.push({
        id: `${file}#${section.anchor}/${counter}`,
        file,
        section: section.title,
        keyword: k[1],
        text: sentence,
        hash: createHash('sha256').update(sentence).digest('hex').slice(0, 12),
      });
    }
  };

  for (const raw of lines) {
    const line = raw.replace(/\s+$/, '');
    if (/^\s*```/.test(line)) {
      flush();
      inCode = !inCode;
      continue;
    }
    if (inCode) continue;
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      flush();
      let anchor = slug(h[2]);
      const n = seen.get(anchor) ?? 0;
      seen.set(anchor, n + 1);
      if (n > 0) anchor = `${anchor}-${n}`;
      section = { anchor, title: plain(h[2].replace(/<a name="[^"]*"\s*\/?>/g, '')) };
      counter = 0;
      continue;
    }
    if (line.trim() === '') { flush(); continue; }
    if (/^\s*\|/.test(line)) {
      flush();
      if (/^\s*\|?\s*-{3,}/.test(line) || /^\s*\|[-\s|]+\|?\s*$/.test(line)) continue;
      block = [line];
      flush();
      continue;
    }
    if (/^[-|]{3,}/.test(line.trim()) && line.includes('|')) continue; // table separator without leading |
    if (!/^\s*\|/.test(line) && line.includes(' | ') && /\|\s*(MUST|SHOULD|MAY)\s*\|/.test(line)) {
      // a table row without the leading pipe (config.md mount options)
      flush();
      block = ['|' + line];
      flush();
      continue;
    }
    if (/^\s*([*+-]|\d+\.)\s+/.test(line)) flush();
    if (/^\[[^\]]+\]:\s/.test(line.trim())) { flush(); continue; } // link reference definitions
    block.push(line.trim().replace(/^([*+-]|\d+\.)\s+/, ''));
  }
  flush();
  return reqs;
}

/** check('name', ['id', ...]) calls in test sources: id -> [test ids]. */
export function scanTests() {
  const dirs = [
    path.join(REPO, 'conformance'),
    path.join(REPO, 'conformance/engines'),
    path.join(REPO, 'test/security-regressions'),
  ];
  const byId = new Map();
  const re = /\b(?:check|rejects)\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1\s*,\s*\[([\s\S]*?)\]/g;
  for (const dir of dirs) {
    let names = [];
    try { names = fs.readdirSync(dir).filter((n) => n.endsWith('.test.ts')).sort(); } catch { continue; }
    for (const n of names) {
      const rel = path.relative(REPO, path.join(dir, n));
      const src = fs.readFileSync(path.join(dir, n), 'utf8');
      let m;
      while ((m = re.exec(src))) {
        const test = `${rel}: ${m[2].replace(/\\(.)/g, '$1')}`;
        for (const idm of m[3].matchAll(/(['"`])([^'"`]+\.md#[^'"`]+)\1/g)) {
          const id = idm[2];
          if (!byId.has(id)) byId.set(id, []);
          byId.get(id).push(test);
        }
      }
    }
  }
  return byId;
}

/** Extract, merge the mapping and the tests' ids; returns the document and any problems. */
export function buildRequirements() {
  const all = [];
  for (const s of SOURCES) {
    if (!fs.existsSync(s.path)) throw new Error(`extract-requirements: missing ${s.path}`);
    all.push(...extract(s.file, fs.readFileSync(s.path, 'utf8')));
  }
  const mappingFile = path.join(HERE, 'mapping.json');
  const mapping = fs.existsSync(mappingFile) ? JSON.parse(fs.readFileSync(mappingFile, 'utf8')) : {};
  const tests = scanTests();
  const ids = new Set(all.map((r) => r.id));
  const problems = [];
  for (const id of Object.keys(mapping)) if (!id.startsWith('_') && !ids.has(id)) problems.push(`mapping.json names unknown id ${id}`);
  for (const id of tests.keys()) if (!ids.has(id)) problems.push(`a test names unknown id ${id}: ${tests.get(id).join('; ')}`);

  const out = all.map((r) => {
    const m = mapping[r.id] ?? {};
    if (m.hash && m.hash !== r.hash) problems.push(`${r.id}: the sentence changed since it was mapped (hash ${m.hash} -> ${r.hash})`);
    const own = tests.get(r.id) ?? [];
    const t = [...own, ...(m.tests ?? [])];
    let status;
    if (t.length > 0) status = { status: 'tested', tests: t };
    else if (m.status) status = { status: m.status, reason: m.reason };
    else status = { status: 'unmapped' };
    if (t.length > 0 && m.status) status.alsoMapped = { status: m.status, reason: m.reason };
    if (m.note) status.note = m.note;
    return { ...r, ...status };
  });
  const doc = {
    generatedBy: 'conformance/extract-requirements.mjs (do not edit; edit mapping.json or the tests)',
    sources: SOURCES.map((s) => s.file),
    counts: {
      total: out.length,
      tested: out.filter((r) => r.status === 'tested').length,
      'not-testable-here': out.filter((r) => r.status === 'not-testable-here').length,
      'not-applicable': out.filter((r) => r.status === 'not-applicable').length,
      unmapped: out.filter((r) => r.status === 'unmapped').length,
    },
    requirements: out,
  };
  return { doc, problems };
}

export function writeRequirements() {
  const { doc, problems } = buildRequirements();
  fs.writeFileSync(path.join(HERE, 'requirements.json'), JSON.stringify(doc, null, 2) + '\n');
  return { doc, problems };
}

function main() {
  const { doc, problems } = writeRequirements();
  console.log(`requirements.json: ${JSON.stringify(doc.counts)}`);
  for (const p of problems) console.error(`warning: ${p}`);
  const unmapped = doc.requirements.filter((r) => r.status === 'unmapped');
  if (CHECK && (unmapped.length > 0 || problems.length > 0)) {
    for (const r of unmapped) console.error(`unmapped: ${r.id}: ${r.text}`);
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
