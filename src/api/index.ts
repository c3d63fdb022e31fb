/**
 * The runts library: `import { Runtime } from 'runts'` / `require('runts')`.
 * A typed front for the same code paths as the CLI (README.md, "Using runts from Node", says
 * which operations run in the caller's process and which spawn the CLI).
 */
export { Runtime } from './runtime.js';
export type { RuntimeOptions, CreateOptions, RunOptions, RunResult, ExecOptions, ExecResult, KillOptions, DeleteOptions, EventsOptions, ContainerEvent, StdioOption } from './runtime.js';
export { ConfigError, RuntsError, SyscallError } from '../common/errors.js';
export type { ErrorDetails, ErrorRecord } from '../common/errors.js';
export { OCI_VERSION } from '../spec/types.js';
export type {
  Capabilities, Device, DeviceCgroup, Hook, HookName, Hooks, IDMapping, Linux, Mount, Namespace, NamespaceType, Process, Resources,
  Rlimit, Scheduler, Seccomp, SeccompArg, SeccompSyscall, Spec, State, Status, User,
} from '../spec/types.js';
