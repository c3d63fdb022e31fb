/** Small waiting helpers for tests that poll what the kernel or the CLI shows. */
import * as fs from 'node:fs';
import { sleepMs } from '../../src/common/sleep.js';

export { sleepMs };

/** Poll `pred` every 20 ms until it holds or `ms` pass; returns its last value. */
export function waitFor(pred: () => boolean, ms = 5000): boolean {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    sleepMs(20);
  }
  return pred();
}

/** Read from a pty master until `marker` shows up, EOF/EIO, or `ms` pass. */
export function readPtyUntil(fd: number, marker: string, ms = 5000): string {
  let out = '';
  const buf = Buffer.alloc(4096);
  const end = Date.now() + ms;
  while (!out.includes(marker) && Date.now() < end) {
    try {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      out += buf.subarray(0, n).toString();
    } catch {
      break;
    }
  }
  return out;
}
