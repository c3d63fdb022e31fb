/** Messages of the parent ↔ child protocol (docs/protocol.md). */
import type { ErrorRecord } from '../common/errors.js';
import type { ExecPlan } from '../plan/exec.js';
import type { InitPlan } from '../plan/init.js';

export type Message =
  | { type: 'userns' }
  | { type: 'booted' }
  | { type: 'ok' }
  | { type: 'pid'; pid: number }
  | { type: 'plan'; plan: InitPlan }
  | { type: 'exec-plan'; plan: ExecPlan }
  | { type: 'hooks'; phase: 'createRuntime' }
  | { type: 'ready' }
  | { type: 'start' }
  | { type: 'exec' }
  | { type: 'error'; error: ErrorRecord };
