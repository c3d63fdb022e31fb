/**
 * linux.personality → personality(2). The spec knows two execution domains,
 * LINUX (PER_LINUX) and LINUX32 (PER_LINUX32: uname(2) reports a 32-bit
 * machine such as i686), and "currently no flag values are supported".
 *
 * Applied in the init stage after the startContainer hooks, just before the
 * seccomp filter (so a profile that restricts personality(2), as Docker's
 * does, cannot stop it) and the credential switch. The persona survives
 * execve (only the PER_CLEAR_ON_SETID bits are dropped on a set-id exec,
 * and LINUX/LINUX32 have none of them).
 */
import { ConfigError, RuntsError } from '../common/errors.js';
import type { Spec } from '../spec/types.js';
import { checked, personality } from './libc.js';

/** linux/personality.h */
export const PERSONALITY_DOMAINS: Readonly<Record<string, number>> = { LINUX: 0x0000, LINUX32: 0x0008 };

/** The persona value for linux.personality, or undefined when unset (the init keeps its own). */
export function planPersonality(spec: Spec): number | undefined {
  const p = spec.linux?.personality;
  if (!p) return undefined;
  if (p.domain === undefined) throw new ConfigError('/linux/personality', 'missing required property "domain"');
  const domain = Object.hasOwn(PERSONALITY_DOMAINS, p.domain) ? PERSONALITY_DOMAINS[p.domain] : undefined;
  if (domain === undefined) {
    throw new ConfigError('/linux/personality/domain', `unknown execution domain ${JSON.stringify(p.domain)}; must be one of ${Object.keys(PERSONALITY_DOMAINS).join(', ')}`);
  }
  if ((p.flags ?? []).length > 0) {
    throw new ConfigError('/linux/personality/flags', `no personality flags are supported, got ${JSON.stringify(p.flags)}`);
  }
  return domain;
}

/** personality(2). Returns the previous persona. */
export function setPersonality(persona: number): number {
  const prev = checked('personality', personality(persona));
  // personality(0xffffffff) only queries; anything else must have stuck.
  const now = personality(0xffffffff);
  if (now !== persona) throw new RuntsError(`personality(0x${persona.toString(16)}) did not take effect (now 0x${(now >>> 0).toString(16)})`, { op: 'personality' });
  return prev;
}
