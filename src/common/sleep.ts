/** Block the calling thread for `ms` milliseconds (for short, bounded waits in sync code). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
