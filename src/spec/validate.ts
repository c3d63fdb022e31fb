/**
 * Loading and validating config.json (and the state JSON).
 *
 * Two stages: the official v1.3.0 JSON schemas (standalone ajv code generated
 * at build time by scripts/gen-validators.mjs, loaded lazily so importing
 * this module stays cheap), then the semantic rules of semantic.ts. Errors
 * come out as one ConfigError naming the most specific problem, with every
 * problem listed in `.all`.
 */
import * as path from 'node:path';
import { ConfigError, RuntsError } from '../common/errors.js';
import { logDebug } from '../common/log.js';
import { scanBounds } from './bounds.js';
import { acceptEngineDeviations } from './engine-deviations.js';
import { userIdProblems } from './ids.js';
import { readDocumentText } from './raw-text.js';
import { semanticProblems, type SemanticOptions } from './semantic.js';
import type { Spec } from './types.js';

// ---------------------------------------------------------------------------
// Generated validators

/** The part of an ajv ErrorObject that the formatter uses. */
export interface SchemaErrorObject {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, any>;
  message?: string;
}

interface ValidateFunction {
  (data: unknown): boolean;
  errors?: SchemaErrorObject[] | null;
}

interface Validators {
  validateConfig: ValidateFunction;
  validateState: ValidateFunction;
  validateFeatures: ValidateFunction;
}

let validators: Validators | undefined;

function loadValidators(): Validators {
  if (!validators) {
    try {
      validators = require('./generated/validators.cjs') as Validators;
    } catch (e) {
      throw new RuntsError('schema validators are not built: run `node scripts/gen-validators.mjs`', { cause: e });
    }
  }
  return validators;
}

// ---------------------------------------------------------------------------
// Friendly schema errors

/** One problem found in a JSON document: where (a JSON pointer) and what. */
export interface Issue {
  pointer: string;
  message: string;
}

function unescapeSegment(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointerSegments(pointer: string): string[] {
  return pointer === '' || pointer === '/' ? [] : pointer.slice(1).split('/').map(unescapeSegment);
}

/** The value at a JSON pointer, or undefined. */
export function valueAt(doc: unknown, pointer: string): unknown {
  let node: any = doc;
  for (const seg of pointerSegments(pointer)) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, seg)) return undefined;
    node = node[seg];
  }
  return node;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** A short rendering of a found value: JSON for scalars, the kind for containers. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `an array of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (v !== null && typeof v === 'object') return 'an object';
  if (typeof v === 'string' && v.length > 64) return `${JSON.stringify(v.slice(0, 64))}...`;
  return JSON.stringify(v);
}

function showType(v: unknown): string {
  const kind = kindOf(v);
  return kind === 'array' || kind === 'object' || kind === 'null' ? kind : `${kind} ${showValue(v)}`;
}

function quoteList(values: unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function sizeOf(v: unknown): number | undefined {
  if (Array.isArray(v) || typeof v === 'string') return v.length;
  if (v !== null && typeof v === 'object') return Object.keys(v).length;
  return undefined;
}

type Explainer = (p: Record<string, any>, value: unknown) => string;

const EXPLAIN: Record<string, Explainer> = {
  required: (p) => `missing required property ${JSON.stringify(p.missingProperty)}`,
  additionalProperties: (p) => `unexpected property ${JSON.stringify(p.additionalProperty)}`,
  enum: (p, v) => `must be one of ${quoteList(p.allowedValues)}, got ${showValue(v)}`,
  const: (p, v) => `must be ${JSON.stringify(p.allowedValue)}, got ${showValue(v)}`,
  type: (p, v) => `must be ${[p.type].flat().join(' or ')}, got ${showType(v)}`,
  minimum: (p, v) => `must be ${p.comparison} ${p.limit}, got ${showValue(v)}`,
  maximum: (p, v) => `must be ${p.comparison} ${p.limit}, got ${showValue(v)}`,
  exclusiveMinimum: (p, v) => `must be ${p.comparison} ${p.limit}, got ${showValue(v)}`,
  exclusiveMaximum: (p, v) => `must be ${p.comparison} ${p.limit}, got ${showValue(v)}`,
  multipleOf: (p, v) => `must be a multiple of ${p.multipleOf}, got ${showValue(v)}`,
  pattern: (p, v) => `must match /${p.pattern}/, got ${showValue(v)}`,
  format: (p, v) => `must be a valid ${p.format}, got ${showValue(v)}`,
  minItems: (p, v) => `must have at least ${plural(p.limit, 'item')}, got ${sizeOf(v)}`,
  maxItems: (p, v) => `must have at most ${plural(p.limit, 'item')}, got ${sizeOf(v)}`,
  minLength: (p, v) => `must be at least ${plural(p.limit, 'character')} long, got ${showValue(v)}`,
  maxLength: (p, v) => `must be at most ${plural(p.limit, 'character')} long, got ${showValue(v)}`,
  minProperties: (p, v) => `must have at least ${plural(p.limit, 'property')}, got ${sizeOf(v)}`,
  maxProperties: (p, v) => `must have at most ${plural(p.limit, 'property')}, got ${sizeOf(v)}`,
  uniqueItems: (p) => `must not contain duplicates (items ${p.j} and ${p.i} are equal)`,
  anyOf: (_p, v) => `does not match any of the allowed forms, got ${showValue(v)}`,
  oneOf: (_p, v) => `must match exactly one of the allowed forms, got ${showValue(v)}`,
  not: (_p, v) => `is not allowed, got ${showValue(v)}`,
};

/** One ajv error as an Issue: the message says what was expected and what was found. */
export function explainSchemaError(e: SchemaErrorObject, doc: unknown): Issue {
  const value = valueAt(doc, e.instancePath);
  const explain = EXPLAIN[e.keyword];
  const message = explain ? explain(e.params ?? {}, value) : `${e.message ?? e.keyword}, got ${showValue(value)}`;
  return { pointer: e.instancePath || '/', message };
}

/** Errors that only summarise failures of their sub-schemas. */
const COMBINATORS = new Set(['anyOf', 'oneOf', 'allOf', 'if']);

/** Keywords that are about a child of the value at instancePath. */
const CHILD_KEYWORDS = new Set(['required', 'additionalProperties', 'dependencies', 'propertyNames']);

function depth(e: SchemaErrorObject): number {
  return pointerSegments(e.instancePath).length + (CHILD_KEYWORDS.has(e.keyword) ? 1 : 0);
}

function isWithin(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(`${outer}/`);
}

/** Drop summaries that have a more specific error below them, then order deepest first. */
export function rankSchemaErrors(errors: readonly SchemaErrorObject[]): SchemaErrorObject[] {
  const kept = errors.filter(
    (e) =>
      !COMBINATORS.has(e.keyword) ||
      !errors.some((o) => o !== e && !COMBINATORS.has(o.keyword) && isWithin(o.instancePath, e.instancePath)),
  );
  return kept.map((e, i) => ({ e, i })).sort((a, b) => depth(b.e) - depth(a.e) || a.i - b.i).map(({ e }) => e);
}

function issuesFrom(errors: readonly SchemaErrorObject[] | null | undefined, doc: unknown): Issue[] {
  const seen = new Set<string>();
  const issues: Issue[] = [];
  for (const e of rankSchemaErrors(errors ?? [])) {
    const issue = explainSchemaError(e, doc);
    const key = `${issue.pointer}\0${issue.message}`;
    if (!seen.has(key)) issues.push(issue);
    seen.add(key);
  }
  return issues;
}

function runSchema(fn: ValidateFunction, doc: unknown): Issue[] {
  return fn(doc) ? [] : issuesFrom(fn.errors, doc);
}

// ---------------------------------------------------------------------------
// Config

/**
 * The error thrown for an invalid config: its message is the most specific
 * problem plus "(and N more errors)"; `all` has every problem.
 */
export class ConfigValidationError extends ConfigError {
  readonly all: readonly ConfigError[];
  readonly warnings: readonly ConfigError[];

  constructor(all: readonly ConfigError[], warnings: readonly ConfigError[] = []) {
    const first = all[0];
    const more = all.length > 1 ? ` (and ${plural(all.length - 1, 'more error')})` : '';
    super(first.pointer ?? '/', detailOf(first) + more);
    this.all = all;
    this.warnings = warnings;
  }
}

/** A ConfigError's message without its "config.json <pointer>: " prefix. */
export function detailOf(e: ConfigError): string {
  const prefix = `config.json ${e.pointer ?? '/'}: `;
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
}

/** Schema problems of a parsed config.json, most specific first (empty if it is valid). */
export function schemaErrors(obj: unknown): ConfigError[] {
  return runSchema(loadValidators().validateConfig, obj).map((i) => new ConfigError(i.pointer, i.message));
}

export interface ValidateOptions extends SemanticOptions {
  /** Called for each warning (e.g. a deprecated relative mount destination). */
  onWarning?: (warning: ConfigError) => void;
}

export interface CheckResult {
  /** The typed config when there are no errors. */
  spec?: Spec;
  errors: ConfigError[];
  warnings: ConfigError[];
  /** Pointer → exact value of integer literals beyond 2^53 (the spec holds the nearest double). */
  exact?: Map<string, bigint>;
}

/**
 * Every problem of a parsed config, without throwing: first the bounds and
 * C types of its JSON text (`text`, or the object re-serialised), then the
 * engine deviations runts accepts (rewritten, as warnings), the schema, and
 * (when the schema passes) the semantic checks. For `runts validate`.
 */
export function checkSpec(obj: unknown, bundleDir: string, opts: SemanticOptions = {}, text?: string): CheckResult {
  const scan = text === undefined ? scanBounds(JSON.stringify(obj) ?? 'null', [], false) : scanBounds(text);
  if (scan.errors.length > 0) return { errors: scan.errors, warnings: [] };
  const deviations = [...acceptEngineDeviations(obj, scan.exact), ...scan.inexact];
  const errors = schemaErrors(obj);
  // ajv's own message wins where it saw the problem (e.g. a negative uid); it misses 2^63 as an int64
  errors.push(...scan.typeErrors.filter((e) => !errors.some((s) => s.pointer === e.pointer)));
  if (errors.length > 0) return { errors, warnings: deviations };
  const spec = obj as Spec;
  const problems = semanticProblems(spec, bundleDir, opts);
  if (problems.errors.length === 0 && spec.process?.user) problems.errors.push(...userIdProblems(spec.process.user, spec.linux));
  const warnings = [...deviations, ...problems.warnings];
  if (problems.errors.length > 0) return { errors: problems.errors, warnings };
  return { spec, errors: [], warnings, exact: scan.exact };
}

/** Validate a parsed config.json; returns it typed or throws ConfigValidationError. Warnings go to onWarning, else the debug log. */
export function validateSpec(obj: unknown, bundleDir: string, opts: ValidateOptions = {}, text?: string): Spec {
  const { spec, errors, warnings } = checkSpec(obj, bundleDir, opts, text);
  if (!spec) throw new ConfigValidationError(errors, warnings);
  for (const w of warnings) (opts.onWarning ?? ((x: ConfigError) => logDebug(`warning: ${x.message}`)))(w);
  return spec;
}

/** Read (bounded, UTF-8 checked), parse and validate `<bundleDir>/config.json`. */
export function loadConfig(bundleDir: string, opts: ValidateOptions = {}): Spec {
  const file = path.join(bundleDir, 'config.json');
  const label = `bundle ${bundleDir}: config.json`;
  const text = readDocumentText(file, label);
  return validateSpec(parseJsonText(text, file, label), bundleDir, opts, text);
}

/** Parse JSON text; syntax errors name the line and column. */
export function parseJsonText(text: string, file: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const { line, column } = lineColumn(text, jsonErrorOffset(text));
    const reason = cleanJsonMessage((e as Error).message);
    throw new RuntsError(`${label}: invalid JSON at line ${line}, column ${column}: ${reason}`, { path: file, cause: e });
  }
}

// ---------------------------------------------------------------------------
// JSON syntax error position (V8's messages do not always carry one)

function cleanJsonMessage(msg: string): string {
  return msg
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/\s*\(line \d+ column \d+\)$/, '');
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Offset of the first JSON syntax error in text, or -1 if it parses. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw new JsonStop(i);
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const literal = (word: string): void => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = (): void => {
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined || c < ' ') fail();
      if (c === '"') return void i++;
      if (c !== '\\') i++;
      else if ('"\\/bfnrt'.includes(text[i + 1] ?? '')) i += 2;
      else if (text[i + 1] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
      else {
        i++; // point at the bad escape character
        fail();
      }
    }
  };
  const number = (): void => {
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text)) fail();
    i = NUMBER.lastIndex;
  };
  const members = (close: string, item: () => void): void => {
    i++;
    ws();
    if (text[i] === close) return void i++;
    for (;;) {
      item();
      ws();
      if (text[i] === close) return void i++;
      if (text[i] !== ',') fail();
      i++;
    }
  };
  const member = (): void => {
    ws();
    if (text[i] !== '"') fail();
    string();
    ws();
    if (text[i] !== ':') fail();
    i++;
    value();
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') members('}', member);
    else if (c === '[') members(']', value);
    else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c >= '0' && c <= '9')) number();
    else fail();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return -1;
  } catch (e) {
    if (e instanceof JsonStop) return e.offset;
    throw e;
  }
}

class JsonStop {
  constructor(readonly offset: number) {}
}

// ---------------------------------------------------------------------------
// State and features

function issueError(what: string, issues: Issue[]): RuntsError {
  const [first] = issues;
  const more = issues.length > 1 ? ` (and ${plural(issues.length - 1, 'more error')})` : '';
  const err = new RuntsError(`${what} ${first.pointer}: ${first.message}${more}`, { pointer: first.pointer });
  return Object.assign(err, { all: issues });
}

/** Schema problems of a state object (runtime.md "State"), most specific first. */
export function stateErrors(obj: unknown): Issue[] {
  return runSchema(loadValidators().validateState, obj);
}

/** Throws a RuntsError (with `.all`) unless obj matches the state schema. */
export function validateState(obj: unknown): void {
  const issues = stateErrors(obj);
  if (issues.length > 0) throw issueError('state', issues);
}

/** Schema problems of a `runts features` document, most specific first. */
export function featuresErrors(obj: unknown): Issue[] {
  return runSchema(loadValidators().validateFeatures, obj);
}

/** Throws a RuntsError (with `.all`) unless obj matches the features schema. */
export function validateFeatures(obj: unknown): void {
  const issues = featuresErrors(obj);
  if (issues.length > 0) throw issueError('features', issues);
}

// ---------------------------------------------------------------------------
// Container IDs

const ID_PATTERN = /^[A-Za-z0-9_+-][A-Za-z0-9_+.-]*$/;
export const MAX_CONTAINER_ID_LENGTH = 1024;

/** Throws a RuntsError unless id is a valid container id (safe as a file name). */
export function validateContainerId(id: string): void {
  const shown = showValue(id);
  const bad = (why: string): never => {
    throw new RuntsError(`invalid container id ${shown}: ${why}`, { op: 'validate id' });
  };
  if (typeof id !== 'string' || id.length === 0) bad('must not be empty');
  if (id.length > MAX_CONTAINER_ID_LENGTH) bad(`must be at most ${MAX_CONTAINER_ID_LENGTH} characters, got ${id.length}`);
  if (id === '.' || id === '..') bad('must not be "." or ".."');
  if (!ID_PATTERN.test(id)) bad(`must match ${ID_PATTERN.source}`);
}
