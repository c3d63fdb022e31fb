// The pass/fail rule for one runtime-tools test program's output (used by run.mjs; unit-tested).
/** Does this TAP output pass? Returns the reason it does not, or undefined. */
export function tapVerdict(text, exitCode, signal) {
  if (signal) return `killed by ${signal}`;
  if (exitCode !== 0) return `exit status ${exitCode}`;
  const lines = text.split('\n');
  let count = 0;
  let plans = 0;
  let prev = '';
  let strayError;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^TAP version/.test(l)) { count = 0; prev = 'version'; continue; }
    const notOk = /^not ok\b/.test(l);
    if (notOk) return `not ok: ${l.replace(/^not ok \d+ - /, '')}`;
    if (/^ok\b/.test(l)) { count++; prev = 'test'; continue; }
    const plan = /^1\.\.(\d+)/.exec(l);
    if (plan) {
      plans++;
      if (Number(plan[1]) !== count) return `plan 1..${plan[1]} but ${count} tests ran`;
      count = 0;
      prev = 'plan';
      continue;
    }
    if (/^\s+---\s*$/.test(l)) {
      const attached = prev === 'test';
      let block = '';
      for (i++; i < lines.length && !/^\s+\.\.\.\s*$/.test(lines[i]); i++) block += lines[i] + '\n';
      if (!attached && /"error"|^\s*error:/m.test(block)) strayError ??= block.replace(/\s+/g, ' ').trim().slice(0, 300);
      prev = 'yaml';
      continue;
    }
    // comments, and tap-go's continuation of a test's description, stay with the test
    if (/^#/.test(l) || /^Refer to: /.test(l)) continue;
    if (l.trim() !== '') prev = 'other';
  }
  if (strayError) return `error reported outside any test: ${strayError}`;
  if (count > 0) return `${count} tests ran after the last plan (no plan for them)`;
  // the *_fail programs print nothing when the runtime refused what it had to refuse: the exit status says it
  if (plans === 0 && !/^(not )?ok\b/m.test(text) && /^TAP version/m.test(text)) return 'no TAP plan';
  return undefined;
}
