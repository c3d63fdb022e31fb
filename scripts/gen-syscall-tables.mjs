#!/usr/bin/env node
// Generate src/linux/seccomp/syscall-table.generated.ts from the kernel's own
// syscall tables as shipped in Debian's linux-libc-dev (the UAPI headers):
//
//   <include>/x86_64-linux-gnu/asm/unistd_64.h   x86_64   (from syscall_64.tbl, "common" + "64")
//   <include>/x86_64-linux-gnu/asm/unistd_32.h   i386     (from syscall_32.tbl)
//   <include>/x86_64-linux-gnu/asm/unistd_x32.h  x32      (from syscall_64.tbl, "common" + "x32")
//   <include>/<triplet>/asm/unistd*.h            every other architecture, names only
//                                                (linux-libc-dev >= 6.5 ships all of them)
//
// The kernel build generates these headers from arch/*/entry/syscalls/*.tbl (and
// scripts/syscall.tbl), so they are the kernel's tables, not a hand-written list.
// The names of the other architectures are what libseccomp's pseudo-syscalls
// are to runc: a name like "pciconfig_read" or "riscv_hwprobe" in a profile is a
// real Linux syscall that x86 does not have, and is skipped without a warning.
//
// The checked-in tables come from linux-libc-dev 7.3.4-1~bpo13+1 (Debian
// trixie-backports; bookworm's own package is 6.1, bookworm-backports 6.12):
//
//   mkdir -p /tmp/apt/lists/partial /tmp/apt/cache/archives/partial
//   echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main' >/tmp/apt/sources.list
//   o="-o Dir::Etc::SourceList=/tmp/apt/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=/tmp/apt/lists -o Dir::Cache=/tmp/apt/cache"
//   apt-get $o update && (cd /tmp && apt-get $o download linux-libc-dev=7.3.4-1~bpo13+1)
//   node scripts/gen-syscall-tables.mjs --deb /tmp/linux-libc-dev_7.3.4-1~bpo13+1_all.deb
//
// (a private apt configuration: the system's sources and /usr/include stay as they are).
// The .deb's SHA-256 is written into the generated file.
//
// Usage:
//   node scripts/gen-syscall-tables.mjs                 write the file from /usr/include
//   node scripts/gen-syscall-tables.mjs --deb FILE      unpack a linux-libc-dev .deb (dpkg-deb -x) and use it
//   node scripts/gen-syscall-tables.mjs --include DIR   read headers below DIR (e.g. a package unpacked with dpkg -x)
//   node scripts/gen-syscall-tables.mjs --check ...     exit 1 if the checked-in file differs from what the
//                                                       given source generates
//   --force                                             write even if the tables would get older (lower highest
//                                                       x86_64 number than the checked-in file)

import { readFileSync, writeFileSync, existsSync, readdirSync, realpathSync, mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'src/linux/seccomp/syscall-table.generated.ts');

const args = process.argv.slice(2);
const check = args.includes('--check');
const force = args.includes('--force');
const opt = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  if (!args[i + 1]) throw new Error(`gen-syscall-tables: ${name} needs a value`);
  return resolve(args[i + 1]);
};
const deb = opt('--deb');
let include = opt('--include') ?? '/usr/include';
let unpacked;
let debInfo;
if (deb) {
  unpacked = mkdtempSync(join(tmpdir(), 'gen-syscall-tables-'));
  process.on('exit', () => rmSync(unpacked, { recursive: true, force: true }));
  execFileSync('dpkg-deb', ['-x', deb, unpacked]);
  include = join(unpacked, 'usr/include');
  const field = (f) => execFileSync('dpkg-deb', ['-f', deb, f], { encoding: 'utf8' }).trim();
  if (field('Package') !== 'linux-libc-dev') throw new Error(`gen-syscall-tables: ${deb} is not a linux-libc-dev package`);
  debInfo = { version: field('Version'), file: basename(deb), sha256: createHash('sha256').update(readFileSync(deb)).digest('hex') };
}

function asmHeader(name) {
  for (const dir of [join(include, 'x86_64-linux-gnu/asm'), join(include, 'asm')]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`gen-syscall-tables: ${name} not found below ${include} (install linux-libc-dev)`);
}

const X32_SYSCALL_BIT = 0x40000000;

/** Parse "#define __NR_<name> <n>" or "#define __NR_<name> (__X32_SYSCALL_BIT + <n>)". */
function parseUnistd(path, x32) {
  const text = readFileSync(path, 'utf8');
  const table = new Map();
  const re = x32
    ? /^#define\s+__NR_(\w+)\s+\(__X32_SYSCALL_BIT\s*\+\s*(\d+)\)\s*$/gm
    : /^#define\s+__NR_(\w+)\s+(\d+)\s*$/gm;
  for (const m of text.matchAll(re)) {
    const nr = Number(m[2]) + (x32 ? X32_SYSCALL_BIT : 0);
    if (table.has(m[1])) throw new Error(`${path}: duplicate __NR_${m[1]}`);
    table.set(m[1], nr);
  }
  // Every __NR_ line must have been understood, or the format changed.
  const all = [...text.matchAll(/^#define\s+__NR_\w+/gm)].length;
  if (all !== table.size) throw new Error(`${path}: parsed ${table.size} of ${all} __NR_ definitions`);
  if (table.size < 300) throw new Error(`${path}: only ${table.size} syscalls, not a syscall table?`);
  return table;
}

/**
 * Syscall names of the other architectures: every `__NR_<name>` (and ARM's
 * private `__ARM_NR_<name>`) in <include>/<triplet>/asm/unistd*.h, except the
 * x86 triplets. Only lower-case names are syscalls (__NR_Linux,
 * __NR_SYSCALL_BASE, ... are bases); reservedNN/unusedNN are placeholders.
 */
function otherArchNames() {
  const names = new Set();
  const arches = new Set();
  const seen = new Set();
  const x86 = new Set(['x86_64-linux-gnu', 'i386-linux-gnu', 'x86_64-linux-gnux32']);
  const triplets = existsSync(include) ? readdirSync(include).filter((d) => /-linux-/.test(d) && !x86.has(d)).sort() : [];
  for (const t of triplets) {
    const dir = join(include, t, 'asm');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((f) => /^unistd.*\.h$/.test(f)).sort()) {
      const real = realpathSync(join(dir, f));
      if (seen.has(real)) continue;
      seen.add(real);
      const text = readFileSync(real, 'utf8');
      let n = 0;
      for (const m of text.matchAll(/^#define\s+__(?:ARM_)?NR_(\w+)\s/gm)) {
        if (!/^[a-z][a-z0-9_]*$/.test(m[1]) && !/^_[a-z]/.test(m[1])) continue;
        if (/^(reserved|unused)\d+$/.test(m[1])) continue;
        names.add(m[1]);
        n++;
      }
      if (n > 0) arches.add(/\/uapi\/([^/]+)\/asm\//.exec(real)?.[1] ?? t);
    }
  }
  return { names, arches: [...arches].sort() };
}

function linuxVersion() {
  const p = join(include, 'linux/version.h');
  if (!existsSync(p)) return 'unknown';
  const t = readFileSync(p, 'utf8');
  const maj = t.match(/LINUX_VERSION_MAJOR\s+(\d+)/);
  const min = t.match(/LINUX_VERSION_PATCHLEVEL\s+(\d+)/);
  const sub = t.match(/LINUX_VERSION_SUBLEVEL\s+(\d+)/);
  if (maj && min && sub) return `${maj[1]}.${min[1]}.${sub[1]}`;
  const code = t.match(/LINUX_VERSION_CODE\s+(\d+)/);
  if (!code) return 'unknown';
  const c = Number(code[1]);
  return `${c >> 16}.${(c >> 8) & 0xff}.${c & 0xff}`;
}

function packageVersion() {
  if (debInfo) return debInfo.version;
  if (include !== '/usr/include') return undefined;
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'linux-libc-dev'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const highest = (table) => Math.max(...[...table.values()].map((nr) => (nr >= X32_SYSCALL_BIT ? nr - X32_SYSCALL_BIT : nr)));

function emit(name, doc, table) {
  const entries = [...table].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  const lines = entries.map(([n, nr]) => `  ${n}: ${nr >= X32_SYSCALL_BIT ? `X32 + ${nr - X32_SYSCALL_BIT}` : nr},`);
  return `/** ${doc} (${table.size} syscalls, highest ${highest(table)}). */\nexport const ${name}: Readonly<Record<string, number>> = Object.freeze({\n${lines.join('\n')}\n});\n`;
}

function emitNames(name, doc, names) {
  const sorted = [...names].sort();
  const lines = [];
  for (let i = 0; i < sorted.length; i += 6) lines.push(`  ${sorted.slice(i, i + 6).map((n) => `'${n}'`).join(', ')},`);
  return `/** ${doc} (${sorted.length} names). */\nexport const ${name}: ReadonlySet<string> = new Set([\n${lines.join('\n')}\n]);\n`;
}

const x86_64 = parseUnistd(asmHeader('unistd_64.h'), false);
const i386 = parseUnistd(asmHeader('unistd_32.h'), false);
const x32 = parseUnistd(asmHeader('unistd_x32.h'), true);
const other = otherArchNames();
for (const t of [x86_64, i386, x32]) for (const n of t.keys()) other.names.delete(n);

const version = linuxVersion();
const pkg = packageVersion();
const source = `Linux ${version} UAPI headers${pkg ? ` (Debian linux-libc-dev ${pkg})` : ''}`;
const meta = {
  linux: version,
  package: pkg ? `linux-libc-dev ${pkg}` : undefined,
  ...(debInfo ? { deb: debInfo.file, sha256: debInfo.sha256 } : {}),
  headers: ['asm/unistd_64.h', 'asm/unistd_32.h', 'asm/unistd_x32.h'],
  otherArches: other.arches,
};

const text = `// GENERATED by scripts/gen-syscall-tables.mjs. Do not edit; re-run the script
// (the header of the script says how to get the same package).
//
// Source: ${source}${debInfo ? `,\n//   ${debInfo.file} sha256 ${debInfo.sha256}` : ''}:
//   asm/unistd_64.h (x86_64), asm/unistd_32.h (i386), asm/unistd_x32.h (x32).
// The kernel build generates these headers from arch/x86/entry/syscalls/syscall_64.tbl
// and syscall_32.tbl. Syscall numbers are ABI: a table from newer headers than the
// running kernel only adds names, whose numbers that kernel answers with ENOSYS.
// Syscalls added after Linux ${version} are not in these tables; see
// src/linux/seccomp/README.md for what that means for a profile.

/** __X32_SYSCALL_BIT: x32 syscall numbers are the table number plus this bit. */
export const X32 = 0x40000000;

/** Where the tables came from. */
export const SYSCALL_TABLE_SOURCE = ${JSON.stringify(meta)} as const;

${emit('SYSCALLS_X86_64', 'x86_64 (AUDIT_ARCH_X86_64, 64-bit ABI) syscall numbers', x86_64)}
${emit('SYSCALLS_I386', 'i386 (AUDIT_ARCH_I386) syscall numbers', i386)}
${emit('SYSCALLS_X32', 'x32 (AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT) syscall numbers, bit included', x32)}
${emitNames('SYSCALL_NAMES_OTHER_ARCHES', `Syscalls of other architectures (${other.arches.join(', ') || 'none in these headers'}) that x86_64, i386 and x32 do not have: known names that no x86 filter section uses (libseccomp's pseudo-syscalls)`, other.names)}`;

const cur = existsSync(out) ? readFileSync(out, 'utf8') : '';
if (check) {
  if (cur !== text) {
    console.error(`${out} differs from what ${source} generates; run node scripts/gen-syscall-tables.mjs with the same source`);
    process.exit(1);
  }
  console.log(`${out} is up to date (${source})`);
} else {
  const curHighest = Number(/SYSCALLS_X86_64 .*highest (\d+)\)/.exec(cur)?.[1] ?? /x86_64 .*highest (\d+)\)/.exec(cur)?.[1] ?? -1);
  if (!force && highest(x86_64) < curHighest) {
    console.error(`gen-syscall-tables: ${source} has x86_64 syscalls up to ${highest(x86_64)}, the checked-in tables up to ${curHighest}; ` +
      'not writing older tables (use --deb with a newer linux-libc-dev, or --force)');
    process.exit(1);
  }
  writeFileSync(out, text);
  console.log(`wrote ${out}: x86_64 ${x86_64.size}, i386 ${i386.size}, x32 ${x32.size} syscalls, ${other.names.size} names of other architectures (${source})`);
}
