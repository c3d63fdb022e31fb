/**
 * Plans are frozen once built: nothing may change a decision after the
 * planner made it. The plan is copied first (structuredClone: it is plain
 * data), so freezing it never freezes the config objects it was built from.
 */

/** Object.freeze on `v` and everything reachable from it. */
export function deepFreeze<T>(v: T): T {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return v;
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  return Object.freeze(v);
}

/** A frozen, private copy of a plan. */
export function freezePlan<T>(plan: T): T {
  return deepFreeze(structuredClone(plan));
}

/** A plan as the parts that run it see it: deeply read-only. */
export type Frozen<T> = T extends (infer E)[] ? readonly Frozen<E>[] : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;
