export { compileSeccomp, BAD_ARCH_ACTION, type CompiledFilter, type CompileOptions } from './compile.js';
export { loadSeccomp, probeSeccompFlags, sendSeccompListener, type ContainerProcessState } from './load.js';
export {
  SECCOMP_ACTIONS,
  SECCOMP_ARCHITECTURES,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
  SECCOMP_RET,
  SECCOMP_FILTER_FLAG,
  AUDIT_ARCH,
  SYSCALL_TABLE_SOURCE,
  syscallNumber,
} from './tables.js';
