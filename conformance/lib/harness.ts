/**
 * Run the checker as the container process through the engine sequence
 * (create, start, wait, delete) and parse its report.
 */
import { checkerArgs, parseReport, type Report } from './checker.js';
import { makeBundle, type Bundle, type BundleOpts, type Result, type RunOpts, type Runtime, uniqueId } from './runtime.js';

export interface CheckerRun { report: Report; bundle: Bundle; id: string; create: Result; start?: Result; stdout: string; stderr: string }

export function runChecker(rt: Runtime, opts: Omit<BundleOpts, 'args'> & { probes?: string[]; run?: RunOpts; id?: string } = {}): CheckerRun {
  const bundle = makeBundle({ ...opts, args: checkerArgs(opts.probes ?? []) });
  const id = opts.id ?? uniqueId('chk');
  const r = rt.lifecycle(bundle.dir, id, opts.run ?? {});
  return { report: parseReport(r.stdout), bundle, id, create: r.create, start: r.start, stdout: r.stdout, stderr: r.stderr };
}
