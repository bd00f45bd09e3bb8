import { CALIBRATED_METHODS, calibratedArmId, MAIN_ARMS, SWEEP_RATIOS, SWEEP_THRESHOLD_RATIO, SWEEP_THRESHOLDS, type Plan, type Train } from './config.js';
import { Results } from './aggregate.js';
import { ARM, eigArm, pairLabel } from './report.js';
import { dotPlot, linePlot, PALETTE, type DotPanel, type LinePanel, type Point, type Series } from './svg.js';

/** The benchmark's SVG figures, by file name. */
export function renderPlots(plan: Plan, r: Results): Record<string, string> {
  const Y = 'top-1 accuracy (%) on the target test set, mean ± std over seeds';
  const cells = plan.pairs.flatMap((p) => plan.shots.map((s) => ({ p, s })));
  const point = (pair: string, train: Train, arm: string, shots: number, x: number): Point[] => {
    const s = r.summary(pair, train, arm, shots);
    return s ? [{ x, mean: s.mean, std: s.std }] : [];
  };

  const armPanels: DotPanel[] = [];
  const addArms = (train: Train, pairs: Plan['pairs'], shots: number[], arms: Plan['denseArms']): void => {
    for (const p of pairs) {
      for (const s of shots) {
        const dots = MAIN_ARMS.filter((a) => arms.some((b) => b.id === a.id)).flatMap((a, i) => {
          const m = r.summary(p.id, train, a.id, s);
          return m ? [{ label: a.label, mean: m.mean, std: m.std, color: PALETTE[i]! }] : [];
        });
        if (dots.length) armPanels.push({ title: `${pairLabel(p)}, ${s}/class, train ${train}`, dots });
      }
    }
  };
  addArms('dense', plan.pairs, plan.shots, plan.denseArms);
  addArms('all', plan.allPairs, plan.allShots, plan.allArms);

  const methods = [
    { name: 'centrality (τ 0.2)', arm: (x: number) => eigArm(x, 0.2) },
    { name: 'L1 magnitude', arm: (x: number) => `l1-r${x}` },
    { name: 'random', arm: (x: number) => `random-r${x}` },
    ...CALIBRATED_METHODS.map((m) => ({ name: `${m} +comp`, arm: (x: number) => calibratedArmId(m, x, true) })),
  ];
  const colors = [2, 1, 4, 0, 3, 5, 6];
  const plainSeries = (pair: string, s: number, xs: number[]): Series => {
    const m = r.summary(pair, 'dense', ARM.plain, s);
    return { name: 'plain fine-tuning', color: '#444', dashed: true, points: m ? xs.map((x) => ({ x, mean: m.mean, std: 0 })) : [] };
  };
  const ratioPanels: LinePanel[] = cells.map(({ p, s }) => ({
    title: `${pairLabel(p)}, ${s}/class`,
    xTicks: SWEEP_RATIOS,
    series: [
      ...methods.map((m, i) => ({ name: m.name, color: PALETTE[colors[i]!]!, points: SWEEP_RATIOS.flatMap((x) => point(p.id, 'dense', m.arm(x), s, x)) })),
      plainSeries(p.id, s, SWEEP_RATIOS),
    ].filter((x) => x.points.length),
  }));
  const tauPanels: LinePanel[] = cells.map(({ p, s }) => ({
    title: `${pairLabel(p)}, ${s}/class`,
    xTicks: SWEEP_THRESHOLDS,
    series: [
      { name: `centrality, ratio ${SWEEP_THRESHOLD_RATIO}`, color: PALETTE[2]!, points: SWEEP_THRESHOLDS.flatMap((t) => point(p.id, 'dense', eigArm(SWEEP_THRESHOLD_RATIO, t), s, t)) },
      plainSeries(p.id, s, SWEEP_THRESHOLDS),
    ].filter((x) => x.points.length),
  }));

  const cols = plan.shots.length;
  return {
    'paper_arms.svg': dotPlot('Fine-tuning after pruning 30 % of the dense neurons, per arm', armPanels, cols, Y),
    'paper_ratio.svg': linePlot('Accuracy vs pruning ratio (frozen trunk)', ratioPanels, cols, 'pruning ratio p', Y),
    'paper_threshold.svg': linePlot(`Accuracy vs similarity threshold τ at ratio ${SWEEP_THRESHOLD_RATIO} (frozen trunk)`, tauPanels, cols, 'threshold τ', Y),
  };
}
