/**
 * process.ioPriority → ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(class, level)).
 *
 * who = 0 is the calling thread: node's main thread, the one that execs the
 * user program, which keeps its I/O priority across execve and passes it on
 * to its children (they fork with a copy of the I/O context), so the whole
 * container inherits it as the spec says. IOPRIO_CLASS_RT needs
 * CAP_SYS_ADMIN (or CAP_SYS_NICE), so this runs before capabilities drop.
 */
import { ConfigError } from '../common/errors.js';
import type { Process } from '../spec/types.js';
import { syscall } from './libc.js';
import { SYS } from './abi.js';

export const IOPRIO_CLASSES: Readonly<Record<string, number>> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
export const IOPRIO_CLASS_SHIFT = 13;
export const IOPRIO_WHO_PROCESS = 1;

export interface IoPriorityPlan {
  class: string;
  priority: number;
  /** IOPRIO_PRIO_VALUE(class, priority): what ioprio_set takes. */
  value: number;
}

export function planIoPriority(p: Process | undefined, base = '/process'): IoPriorityPlan | undefined {
  const io = p?.ioPriority;
  if (!io) return undefined;
  const at = `${base}/ioPriority`;
  const cls = Object.hasOwn(IOPRIO_CLASSES, io.class) ? IOPRIO_CLASSES[io.class] : undefined;
  if (cls === undefined) throw new ConfigError(`${at}/class`, `unknown I/O priority class ${JSON.stringify(io.class)}; must be one of ${Object.keys(IOPRIO_CLASSES).join(', ')}`);
  if (io.priority === undefined) throw new ConfigError(at, 'missing required property "priority"');
  if (!Number.isInteger(io.priority) || io.priority < 0 || io.priority > 7) {
    throw new ConfigError(`${at}/priority`, `must be an integer between 0 and 7, got ${JSON.stringify(io.priority)}`);
  }
  return { class: io.class, priority: io.priority, value: (cls << IOPRIO_CLASS_SHIFT) | io.priority };
}

export function setIoPriority(p: IoPriorityPlan): void {
  syscall(SYS.ioprio_set, `ioprio_set(${p.class}, ${p.priority})`, 'int', IOPRIO_WHO_PROCESS, 'int', 0, 'int', p.value);
}
