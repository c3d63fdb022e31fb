/**
 * The context every semantic check (semantic.ts) shares, and the helpers that
 * record a problem with the JSON pointer of the value.
 */
import { ConfigError } from '../common/errors.js';
import type { SemanticOptions } from './semantic.js';
import type { Linux, NamespaceType, Spec } from './types.js';

export interface NamespaceEntry {
  index: number;
  path?: string;
}

export interface Ctx {
  spec: Spec;
  linux: Linux;
  bundleDir: string;
  opts: Required<SemanticOptions>;
  errors: ConfigError[];
  warnings: ConfigError[];
  namespaces: Map<string, NamespaceEntry>;
}

// ---------------------------------------------------------------------------
// Helpers

function escapeSegment(s: string | number): string {
  return String(s).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A JSON pointer from path segments. */
export function ptr(...segments: (string | number)[]): string {
  return segments.length === 0 ? '/' : `/${segments.map(escapeSegment).join('/')}`;
}

export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string' && v.length > 64) return `${JSON.stringify(v.slice(0, 64))}...`;
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function error(c: Ctx, pointer: string, message: string): void {
  c.errors.push(new ConfigError(pointer, message));
}

export function warn(c: Ctx, pointer: string, message: string): void {
  c.warnings.push(new ConfigError(pointer, message));
}

export function hasNul(s: string): boolean {
  return s.includes('\0');
}

/** NUL check, plus an absolute-path check unless relativeOk. Returns false on error. */
export function checkPath(c: Ctx, pointer: string, value: string, absolute = true): boolean {
  if (hasNul(value)) error(c, pointer, 'must not contain a NUL character');
  else if (absolute && !value.startsWith('/')) error(c, pointer, `must be an absolute path, got ${show(value)}`);
  else return true;
  return false;
}

export function namespaceRef(entry: NamespaceEntry): string {
  return ptr('linux', 'namespaces', entry.index, 'path');
}

/** An error for a setting that needs a namespace of `type` (new, or also joined if joinedOk). */
export function requireNamespace(c: Ctx, pointer: string, type: NamespaceType, what: string, joinedOk: boolean): void {
  const ns = c.namespaces.get(type);
  if (!ns) error(c, pointer, `${what} needs a ${type} namespace in /linux/namespaces`);
  else if (ns.path && !joinedOk) error(c, pointer, `${what} cannot be applied to the ${type} namespace joined through ${namespaceRef(ns)}`);
}
