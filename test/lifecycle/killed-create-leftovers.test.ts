/**
 * What a SIGKILLed command leaves under --root must be reachable from the
 * container id (issue 11: a create killed at ~150 ms left `.new-<id>-XXXXXX`,
 * which `state` did not see and `delete --force` could not remove):
 * `delete --force ID` removes it, `list` does not trip over it, a later
 * `create` of the same id succeeds. What a live command holds (its lock) is
 * never touched.
 *
 * Ids of more than 200 characters get a hashed temp name (a file name has at
 * most 255 bytes). The leftovers are made as the killed commands leave them (deterministic):
 * - a create killed before its rename: `.new-<id>-XXXXXX/` with config.json
 *   and state.json (phase "creating", its creator dead), unlocked;
 * - a delete killed between removing state.json and the directory: `<id>/`
 *   with config.json only.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tempPrefix } from '../../src/state/store.js';
import { makeBundle, uniqueId, withRunts } from '../helpers/runts.js';
import { waitFor } from '../helpers/wait.js';

withRunts((rt) => {
  /** The temp dir of a create of `id` killed before its rename. */
  function killedCreateDir(id: string, suffix = 'AbC123'): string {
    const dir = path.join(rt.root, `${tempPrefix(id)}${suffix}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'config.json'), '{}');
    const rec = { id, ociVersion: '1.3.0', bundle: '/nonexistent', rootfs: '/nonexistent', created: new Date().toISOString(), owner: 'root',
      annotations: {}, phase: 'creating', creator: { pid: 999999999, startTime: '1' }, pidns: true };
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(rec));
    return dir;
  }

  function listIds(): string[] {
    const r = rt.run(['list', '--format', 'json']);
    if (r.code !== 0) throw new Error(`list failed: ${r.stderr}`);
    return ((JSON.parse(r.stdout || 'null') ?? []) as { id: string }[]).map((c) => c.id);
  }

  for (const idKind of ['short', 'long'] as const) {
    t.test(`a killed create's temp dir (${idKind} id): list, delete --force, create`, async (t) => {
      const id = idKind === 'short' ? uniqueId('killed') : `${uniqueId('killed')}-${'x'.repeat(220)}`;
      const dir = killedCreateDir(id);
      t.same(listIds().filter((i) => i === id), [], 'list works and does not show it');
      t.not(rt.run(['state', id]).code, 0, 'state: the container does not exist');
      const d = rt.run(['delete', '--force', id]);
      t.equal(d.code, 0, `delete --force succeeds (${d.stderr.trim()})`);
      t.notOk(fs.existsSync(dir), 'and removes it');
      killedCreateDir(id, 'ZyX987');
      const c = rt.run(['create', '--bundle', makeBundle({ args: ['true'] }), id]);
      t.equal(c.code, 0, `a later create of the same id succeeds (${c.stderr.trim()})`);
      t.same(fs.readdirSync(rt.root).filter((n) => n.startsWith('.')), [], 'and the leftover is gone');
      t.equal(rt.run(['delete', '--force', id]).code, 0);
      t.same(fs.readdirSync(rt.root), [], 'nothing left');
    });
  }

  t.test('a killed delete\'s <id>/ without state.json: list, delete --force, create', async (t) => {
    const id = uniqueId('halfdel');
    fs.mkdirSync(path.join(rt.root, id), { recursive: true });
    fs.writeFileSync(path.join(rt.root, id, 'config.json'), '{}');
    t.same(listIds().filter((i) => i === id), [], 'list works and does not show it');
    const c1 = rt.run(['create', '--bundle', makeBundle({ args: ['true'] }), id]);
    t.equal(c1.code, 0, `create of the same id succeeds (${c1.stderr.trim()})`);
    t.equal(rt.run(['delete', '--force', id]).code, 0);
    fs.mkdirSync(path.join(rt.root, id), { recursive: true });
    fs.writeFileSync(path.join(rt.root, id, 'config.json'), '{}');
    const d = rt.run(['delete', '--force', id]);
    t.equal(d.code, 0, `delete --force succeeds (${d.stderr.trim()})`);
    t.same(fs.readdirSync(rt.root), [], 'and removes it');
  });

  t.test('a live create\'s temp dir (locked) is left alone', async (t) => {
    const id = uniqueId('live');
    const dir = killedCreateDir(id);
    // flock(1) runs sleep once it holds the lock (-o: only flock itself holds it); a process group to kill both
    const holder = spawn('flock', ['-o', dir, 'sleep', '600'], { stdio: 'ignore', detached: true });
    const killHolder = () => { try { process.kill(-holder.pid!, 'SIGKILL'); } catch { /* gone */ } };
    t.teardown(killHolder);
    const children = () => fs.readFileSync(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8').trim();
    t.ok(waitFor(() => children() !== '', 10_000), 'the lock is held');
    const d = rt.run(['delete', '--force', id]);
    // no container by that id: succeeds as runc does (engines delete blindly), and touches nothing locked
    t.equal(d.code, 0, `delete --force of an id with no container exits 0 (runc): ${d.stderr}`);
    t.ok(fs.existsSync(dir), 'the live create\'s directory stays');
    const exited = new Promise((r) => holder.once('exit', r));
    killHolder();
    await exited;
    t.equal(rt.run(['delete', '--force', id]).code, 0, 'once its holder is gone, delete --force removes it');
    t.notOk(fs.existsSync(dir));
  });
});
