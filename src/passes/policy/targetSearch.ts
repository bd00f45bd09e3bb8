/**
 * Finds the smallest pruning ratio p in [0, maxRatio] for which `meetsTarget(p)` holds, by bisection (pruning more
 * never increases MACs or params, so the predicate is monotone). Returns maxRatio when even that does not reach the
 * target: the caller reports the shortfall.
 */
export async function searchRatio(meetsTarget: (p: number) => boolean | Promise<boolean>, maxRatio = 0.95, steps = 12): Promise<number> {
  if (await meetsTarget(0)) return 0;
  if (!(await meetsTarget(maxRatio))) return maxRatio;
  let lo = 0;
  let hi = maxRatio;
  for (let i = 0; i < steps; i++) {
    const mid = (lo + hi) / 2;
    if (await meetsTarget(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
