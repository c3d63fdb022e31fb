import t from 'tap';
import { SyscallError, RuntsError, ConfigError, errnoName } from '../../src/common/errors.js';

t.test('SyscallError names op, path and errno', async (t) => {
  const e = new SyscallError('mount', 1, '/proc');
  t.equal(e.message, 'mount /proc: EPERM (operation not permitted)');
  t.equal(e.errno, 'EPERM');
  t.equal(errnoName(2), 'ENOENT');
});

t.test('errors round-trip through JSON', async (t) => {
  const e = new ConfigError('/process/args', 'must not be empty');
  const back = RuntsError.fromJSON(JSON.parse(JSON.stringify(e)));
  t.equal(back.pointer, '/process/args');
  t.equal(back.message, 'config.json /process/args: must not be empty');
});
