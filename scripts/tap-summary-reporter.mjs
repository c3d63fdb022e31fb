// tap reporter: passes raw TAP through unchanged and ends with one line
// "N passed, M failed[, K skipped]" parsed from tap's "# { total: ... }" line.
import { Transform } from 'node:stream';

export default class SummaryReporter extends Transform {
  constructor(tap) {
    super();
    this.buf = '';
    this.counts = null;
    if (tap && typeof tap.pipe === 'function') tap.pipe(this);
  }
  _transform(chunk, _enc, cb) {
    const text = chunk.toString();
    this.buf = (this.buf + text).slice(-4096);
    const m = this.buf.match(/^# (\{ total: [^\n]*\})\s*$/m);
    if (m) {
      const c = {};
      for (const kv of m[1].slice(1, -1).split(',')) {
        const [k, v] = kv.split(':').map((s) => s.trim());
        if (k && v !== undefined) c[k] = Number(v);
      }
      this.counts = c;
    }
    this.push(chunk);
    cb();
  }
  _flush(cb) {
    const c = this.counts ?? { total: 0, pass: 0, fail: 0 };
    const skipped = (c.skip ?? 0) + (c.todo ?? 0);
    this.push(`\n${c.pass ?? 0} passed, ${c.fail ?? 0} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
    cb();
  }
}
