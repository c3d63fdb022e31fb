/** `list`: every container under the root, tolerant of concurrent deletes. */
import { stateOf } from '../state/status.js';
import type { StoreReader } from '../state/reader.js';

export type Listed = ReturnType<typeof stateOf>;

export function listContainers(store: StoreReader): Listed[] {
  const out: Listed[] = [];
  for (const id of store.ids()) {
    try {
      const rec = store.read(id);
      if (rec) out.push(stateOf(store, rec));
    } catch {
      /* being deleted or half-written by a concurrent command: skip it */
    }
  }
  return out;
}

/** runc's table: ID PID STATUS BUNDLE CREATED OWNER, columns padded. */
export function formatTable(rows: Listed[]): string {
  const table = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
  for (const r of rows) table.push([r.id, String(r.pid ?? 0), r.status, r.bundle, String(r.created), String(r.owner)]);
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  return table.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]! + 3))).join('').trimEnd() + '\n').join('');
}

/** `runts list`'s output: ids (--quiet), JSON (--format json) or runc's table. */
export function listText(store: StoreReader, flags: { quiet?: unknown; format?: unknown }): string {
  const states = listContainers(store);
  if (flags.quiet) return states.map((s) => s.id + '\n').join('');
  if (flags.format === 'json') return JSON.stringify(states) + '\n';
  return formatTable(states);
}
