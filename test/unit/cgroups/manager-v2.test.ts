/**
 * The v2 manager's pure part: which controllers of the parent's
 * cgroup.controllers still have to be written to cgroup.subtree_control.
 * The kernel tests are in test/cgroups/manager-v2.test.ts.
 */
import t from 'tap';
import { controllersToEnable } from '../../../src/cgroups/manager.js';

t.test('controllersToEnable', async (t) => {
  t.same(controllersToEnable('cpuset cpu io memory pids\n', 'cpu memory\n'), ['cpuset', 'io', 'pids']);
  t.same(controllersToEnable('', ''), []);
  t.same(controllersToEnable('cpu', 'cpu'), []);
});
