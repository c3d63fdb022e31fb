/**
 * Logging as runc does it: `--log FILE` receives lines in `--log-format`
 * text (logrus style) or json ({"level","msg","time"}); errors and warnings
 * also go to stderr. Writes are synchronous and never touch process.stderr's
 * stream (which could switch a shared fd to non-blocking mode).
 */
import * as fs from 'node:fs';

export type Level = 'debug' | 'info' | 'warning' | 'error';

interface LogConfig { file?: string; format: 'text' | 'json'; debug: boolean }
const cfg: LogConfig = { format: 'text', debug: false };

export function configureLog(c: Partial<LogConfig>): void {
  Object.assign(cfg, c);
}

function line(level: Level, msg: string): string {
  const time = new Date().toISOString();
  if (cfg.format === 'json') return JSON.stringify({ level, msg, time }) + '\n';
  return `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

function toFile(level: Level, msg: string): void {
  if (!cfg.file) return;
  try {
    fs.appendFileSync(cfg.file, line(level, msg));
  } catch {
    /* an unwritable log must not hide the real error */
  }
}

function toStderr(text: string): void {
  try {
    fs.writeSync(2, text);
  } catch {
    /* stderr closed */
  }
}

export function logError(msg: string): void {
  toFile('error', msg);
  toStderr(`runts: ${msg}\n`);
}

export function logWarning(msg: string): void {
  toFile('warning', msg);
  toStderr(`runts: warning: ${msg}\n`);
}

/** "<what> at <ms since start> ms", for --debug; node's performance global (perf_hooks) is loaded only then. */
export function logDebugAt(what: string): void {
  if (cfg.debug) logDebug(`${what} at ${performance.now().toFixed(1)} ms`);
}

export function logDebug(msg: string): void {
  if (!cfg.debug) return;
  toFile('debug', msg);
  if (!cfg.file) toStderr(`runts: debug: ${msg}\n`);
}
