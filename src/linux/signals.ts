/** Signal names and numbers, parsed the way runc's `kill` accepts them. */
import { constants } from 'node:os';
import { RuntsError } from '../common/errors.js';

const SIGNALS = constants.signals as Record<string, number>;

export function signalNumber(name: string): number | undefined {
  return SIGNALS[name];
}

/**
 * "TERM", "SIGTERM", "sigterm", "15" → 15; "RTMIN+3" too. "0" is valid: it
 * delivers nothing and checks that the process exists (kill(2), runc).
 */
export function parseSignal(text: string): number {
  const s = text.trim();
  if (/^[0-9]+$/.test(s)) {
    const n = Number(s);
    if (n >= 0 && n <= 64) return n;
    throw new RuntsError(`invalid signal "${text}": out of range 0-64`);
  }
  let up = s.toUpperCase();
  if (!up.startsWith('SIG')) up = 'SIG' + up;
  const rt = /^SIGRTMIN(?:\+([0-9]+))?$/.exec(up) ?? /^SIGRTMAX(?:-([0-9]+))?$/.exec(up);
  if (rt) {
    const off = Number(rt[1] ?? 0);
    const n = up.startsWith('SIGRTMIN') ? 34 + off : 64 - off;
    if (n >= 34 && n <= 64) return n;
  }
  const n = SIGNALS[up];
  if (n === undefined) throw new RuntsError(`unknown signal "${text}"`);
  return n;
}
