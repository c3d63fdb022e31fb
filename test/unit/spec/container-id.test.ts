import t from 'tap';
import { RuntsError } from '../../../src/common/errors.js';
import { MAX_CONTAINER_ID_LENGTH, validateContainerId } from '../../../src/spec/validate.js';

function rejection(id: string): string | undefined {
  try {
    validateContainerId(id);
    return undefined;
  } catch (e) {
    if (!(e instanceof RuntsError)) throw e;
    return e.message;
  }
}

t.test('valid ids', async (t) => {
  for (const id of ['a', 'abc', 'my-container_1', 'x.y.z', '+plus', '-dash', '_under', 'A1+B2', 'a...', 'a..b', 'x'.repeat(1024)]) {
    t.equal(rejection(id), undefined, JSON.stringify(id.length > 20 ? `${id.slice(0, 20)}...` : id));
  }
});

t.test('invalid ids', async (t) => {
  const pattern = 'must match ^[A-Za-z0-9_+-][A-Za-z0-9_+.-]*$';
  t.equal(rejection(''), 'invalid container id "": must not be empty');
  t.equal(rejection('.'), 'invalid container id ".": must not be "." or ".."');
  t.equal(rejection('..'), 'invalid container id "..": must not be "." or ".."');
  t.equal(rejection('a/b'), `invalid container id "a/b": ${pattern}`);
  t.equal(rejection('../etc'), `invalid container id "../etc": ${pattern}`);
  t.equal(rejection('/abs'), `invalid container id "/abs": ${pattern}`);
  t.equal(rejection('.hidden'), `invalid container id ".hidden": ${pattern}`);
  t.equal(rejection('a\0b'), `invalid container id "a\\u0000b": ${pattern}`);
  t.equal(rejection('with space'), `invalid container id "with space": ${pattern}`);
  t.equal(rejection('new\nline'), `invalid container id "new\\nline": ${pattern}`);
  t.equal(rejection('caf\u00e9'), `invalid container id "caf\u00e9": ${pattern}`);
  t.equal(rejection('a:b'), `invalid container id "a:b": ${pattern}`);
  const long = 'x'.repeat(MAX_CONTAINER_ID_LENGTH + 1);
  t.match(rejection(long), /^invalid container id "x{64}"\.\.\.: must be at most 1024 characters, got 1025$/);
});
