/**
 * Progress of an unpack: on a terminal (stderr is a tty) one line per layer
 * redrawn in place, "layer 2/5 sha256:0123abcd…  12.0/40.3 MiB"; nothing
 * otherwise. With --debug, each layer's time and rate through the log.
 */
import * as fs from 'node:fs';
import { logDebug } from '../common/log.js';

const MIB = 1024 * 1024;

function mib(n: number): string {
  return (n / MIB).toFixed(1);
}

export class Progress {
  private last = 0;
  private t0 = 0;

  constructor(private readonly tty: boolean = process.stderr.isTTY === true) {}

  private write(text: string): void {
    try { fs.writeSync(2, text); } catch { /* stderr closed */ }
  }

  start(): void {
    this.t0 = performance.now();
  }

  update(i: number, n: number, digest: string, read: number, size: number): void {
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.last < 100 && read < size) return;
    this.last = now;
    this.write(`\r\x1b[Klayer ${i + 1}/${n} ${digest.slice(0, 19)}…  ${mib(read)}/${mib(size)} MiB`);
  }

  layerDone(i: number, n: number, digest: string, size: number, how: 'unpacked' | 'cached', entries: number): void {
    const ms = performance.now() - this.t0;
    if (this.tty) this.write(`\r\x1b[Klayer ${i + 1}/${n} ${digest.slice(0, 19)}…  ${mib(size)} MiB ${how}\n`);
    logDebug(`image: layer ${i + 1}/${n} ${digest} ${how}: ${size} bytes, ${entries} entries, ${ms.toFixed(1)} ms` +
      (how === 'unpacked' && ms > 0 ? ` (${(size / MIB / (ms / 1000)).toFixed(1)} MiB/s compressed)` : ''));
    this.t0 = performance.now();
  }
}

/** "<what>: N ms" with --debug. */
export function timed<T>(what: string, f: () => T): T {
  const t = performance.now();
  const r = f();
  logDebug(`image: ${what}: ${(performance.now() - t).toFixed(1)} ms`);
  return r;
}
