/**
 * The pass/fail rule the runtime-tools runner (conformance/oci/run.mjs) applies to one test program's output,
 * on outputs shaped like the suite's own (tap-go: several documents, YAML blocks, "Refer to:" lines).
 */
import t from 'tap';
// @ts-expect-error: a plain .mjs module without types
import { tapVerdict } from '../../conformance/oci/tap-verdict.mjs';

const verdict = tapVerdict as (text: string, code: number | null, signal?: string | null) => string | undefined;

t.test('passes: every test ok, plans match, errors only inside a test\'s own YAML', async (t) => {
  const out = [
    'TAP version 13',
    'ok 1 - state MUST generate an error if it is not provided the ID of a container',
    'Refer to: https://github.com/opencontainers/runtime-spec/blob/v1.1.0/runtime.md#query-state',
    '  ---',
    '  {',
    '    "error": "exit status 1"',
    '  }',
    '  ...',
    'ok 2 - second',
    '# expect: 1, actual: 1',
    '1..2',
    'TAP version 13',
    'ok 1 - another document',
    '1..1',
  ].join('\n');
  t.equal(verdict(out, 0), undefined);
});

t.test('fails', async (t) => {
  t.match(verdict('TAP version 13\nok 1 - a\n1..1\n', 1), /exit status 1/);
  t.match(verdict('TAP version 13\nok 1 - a\n1..1\n', null, 'SIGKILL'), /killed by SIGKILL/);
  t.match(verdict('TAP version 13\nok 1 - a\nnot ok 2 - hostname is set correctly\n1..2\n', 0), /not ok: hostname is set correctly/);
  t.match(verdict('TAP version 13\nok 1 - a\n1..2\n', 0), /plan 1\.\.2 but 1 tests ran/);
  t.match(verdict('TAP version 13\nok 1 - a\n', 0), /no plan/);
  // hooks.t: no test line, an error in a YAML block of its own, plan 1..0
  const stray = 'TAP version 13\nfailed to start the container\n  ---\n  {\n    "error": "Hooks MUST be called in the listed order"\n  }\n  ...\n1..0\n';
  t.match(verdict(stray, 0), /error reported outside any test: .*listed order/);
  t.match(verdict('TAP version 13\n', 0), /no TAP plan/);
});

t.test('a *_fail program that printed nothing but the runtime\'s refusal passes on exit 0', async (t) => {
  t.equal(verdict('failed to create the container\nruntts: config.json /process/rlimits/1/type: unknown\nClean: Delete:  exit status 1\n', 0), undefined);
  t.match(verdict('failed to create the container\n', 1), /exit status 1/);
});
