/**
 * issue 12, differential: with process.terminal (runc spec's default) and no
 * --console-socket, the runtime relays the pty itself. The output of a
 * program that exits at once must arrive, in a terminal (script -qc) and in
 * a pipe, for `run` and for a foreground `exec -t`; runc prints it every
 * time. Each case runs several times: losing the output was a race.
 */
import t from 'tap';
const tap = t;
import { differential, makeBundle, type Result, type Runtime } from '../helpers/differential.js';

differential((d) => {
  const ROUNDS = 5;

  const echo = makeBundle({ args: ['/bin/echo', 'Hello', 'World'], mutate: (c) => { c.process.terminal = true; } });
  const sleeper = makeBundle({ args: ['sleep', '600'] });

  /** The same command line `ROUNDS` times under one runtime; `line` gets a fresh id. */
  async function rounds(rt: Runtime, line: (id: string) => string): Promise<Result[]> {
    const out: Result[] = [];
    for (let i = 0; i < ROUNDS; i++) out.push(await rt.inTerminal(line(d.id('tty'))));
    return out;
  }

  // runc clears ONLCR on the pty after receiving it, racing with the process
  // (now and then it prints "\r\r\n"); runts clears it before the process runs.
  // Required: runc's output arrives every time, and its usual form is seen;
  // runts's output is that usual form every time.
  function compare(t: Pick<typeof tap, 'same' | 'match' | 'ok'>, r: { runc: Result[]; runts: Result[] }, want: string, racy: RegExp): void {
    for (const x of r.runc) t.match(x, { code: 0, stdout: racy }, `runc: ${JSON.stringify(x)}`);
    t.ok(r.runc.some((x) => x.stdout === want), 'runc\'s usual output seen');
    for (const [i, x] of r.runts.entries()) t.same([x.code, x.stdout], [0, want], `runts, round ${i + 1}: runc's output (${JSON.stringify(x.stderr)})`);
  }

  t.test('run: in a terminal', async (t) => {
    const r = await d.each((rt) => rounds(rt, (id) => `$RT run --bundle ${echo} ${id}`));
    compare(t, r, 'Hello World\r\n', /^Hello World\r\r?\n$/);
  });

  t.test('run: in a pipe', async (t) => {
    const r = await d.each((rt) => rounds(rt, (id) => `$RT run --bundle ${echo} ${id} | od -c | head -1`));
    compare(t, r, '0000000   H   e   l   l   o       W   o   r   l   d  \\n\r\n', /^0000000   H   e   l   l   o       W   o   r   l   d  (\\r  )?\\n\r\n$/);
  });

  t.test('exec -t: in a terminal and in a pipe', async (t) => {
    const r = await d.each(async (rt) => {
      const id = d.id('ttyexec');
      const run = rt.run(['run', '-d', '--bundle', sleeper, id]);
      t.equal(run.code, 0, `${rt.name} run -d: ${run.stderr}`);
      const out: Result[] = [];
      for (let i = 0; i < ROUNDS; i++) out.push(await rt.inTerminal(`$RT exec -t ${id} /bin/echo Hello World`));
      for (let i = 0; i < ROUNDS; i++) out.push(await rt.inTerminal(`$RT exec -t ${id} /bin/echo Hello World | od -c | head -1`));
      rt.run(['delete', '--force', id]);
      return out;
    });
    // runc clears ONLCR on the pty after receiving it, racing with the exec'd
    // process (now and then it prints "\r\r\n"); runts clears it before the
    // process runs. Required: runc's output arrives; runts's is runc's usual one.
    const inTty = 'Hello World\r\n';
    const inPipe = '0000000   H   e   l   l   o       W   o   r   l   d  \\n\r\n';
    for (const x of r.runc.slice(0, ROUNDS)) t.match(x, { code: 0, stdout: /^Hello World\r\r?\n$/ }, `runc: ${JSON.stringify(x)}`);
    for (const x of r.runc.slice(ROUNDS)) t.match(x, { code: 0, stdout: /^0000000   H   e   l   l   o       W   o   r   l   d  (\\r  )?\\n\r\n$/ }, `runc: ${JSON.stringify(x)}`);
    t.ok(r.runc.slice(0, ROUNDS).some((x) => x.stdout === inTty), 'runc\'s usual output in a terminal');
    t.ok(r.runc.slice(ROUNDS).some((x) => x.stdout === inPipe), 'runc\'s usual output in a pipe');
    for (const [i, x] of r.runts.entries()) {
      t.same([x.code, x.stdout], [0, i < ROUNDS ? inTty : inPipe], `runts, case ${i + 1}: runc's output (${JSON.stringify(x.stderr)})`);
    }
  });

  t.test('the exit status comes through the terminal relay', async (t) => {
    const fails = makeBundle({ args: ['sh', '-c', 'echo bye; exit 7'], mutate: (c) => { c.process.terminal = true; } });
    const r = await d.each((rt) => rt.inTerminal(`$RT run --bundle ${fails} ${d.id('ttyexit')}`));
    t.match(r.runc, { code: 7, stdout: /^bye\r\r?\n$/ }, `runc: ${JSON.stringify(r.runc)}`);
    t.same([r.runts.code, r.runts.stdout], [7, 'bye\r\n'], `runts: ${JSON.stringify(r.runts)}`);
  });
});
