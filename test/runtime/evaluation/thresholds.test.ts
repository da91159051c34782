// Thresholds and the blessing: inclusive value bounds, change thresholds against a baseline (absolute and
// relative, both directions, a 0 or negative baseline), the first-run rubber stamp, per-slice thresholds,
// missing slices, NaN metrics, and "no thresholds, no blessing" — each failure with its one-line reason.

import { NO_THRESHOLDS, parseEvalConfig, validateMetrics, type SliceKey, type SliceMetrics } from '../../../runtime/evaluation';

function slice(key: SliceKey, metrics: Record<string, number>): SliceMetrics {
  const name = key.length === 0 ? 'Overall' : key.map(([f, v]) => `${f}:${v}`).join(',');
  return { slice: name, slice_key: key, example_count: 10, metrics };
}
const overall = (metrics: Record<string, number>) => [slice([], metrics)];
const config = (c: Record<string, unknown>) => parseEvalConfig({ label_key: 'y', task: 'binary', slicing_specs: [{}, { feature_keys: ['island'] }], ...c });

describe('value thresholds', () => {
  const bounds = config({ thresholds: { accuracy: { value_threshold: { lower_bound: 0.95 } }, log_loss: { value_threshold: { upper_bound: 0.5 } } } });

  test('bounds are inclusive', () => {
    const v = validateMetrics(overall({ accuracy: 0.95, log_loss: 0.5 }), undefined, bounds);
    expect(v).toEqual({
      blessed: true,
      failures: [],
      results: [
        { slice: 'Overall', metric: 'accuracy', threshold: { kind: 'lower_bound', bound: 0.95 }, value: 0.95, passed: true, reason: 'accuracy on Overall = 0.95 meets the lower bound 0.95' },
        { slice: 'Overall', metric: 'log_loss', threshold: { kind: 'upper_bound', bound: 0.5 }, value: 0.5, passed: true, reason: 'log_loss on Overall = 0.5 meets the upper bound 0.5' },
      ],
    });
  });

  test('below the lower bound or above the upper bound fails, saying which', () => {
    const v = validateMetrics(overall({ accuracy: 0.91, log_loss: 0.51 }), undefined, bounds);
    expect(v.blessed).toBe(false);
    expect(v.failures).toEqual(['accuracy on Overall = 0.91 is below the lower bound 0.95', 'log_loss on Overall = 0.51 is above the upper bound 0.5']);
  });

  test('numbers: six significant digits, whole numbers in full, a value that rounds to its bound in full', () => {
    const v = validateMetrics(overall({ accuracy: 0.9499999999, log_loss: 0.1 }), undefined, bounds);
    expect(v.failures).toEqual(['accuracy on Overall = 0.9499999999 is below the lower bound 0.95']);
    const count = config({ thresholds: { example_count: { value_threshold: { lower_bound: 123456790 } } } });
    expect(validateMetrics(overall({ example_count: 123456789 }), undefined, count).failures).toEqual(['example_count on Overall = 123456789 is below the lower bound 123456790']);
  });

  test('both bounds are two checks', () => {
    const c = config({ thresholds: { auc: { value_threshold: { lower_bound: 0.6, upper_bound: 0.99 } } } });
    const v = validateMetrics(overall({ auc: 0.995 }), undefined, c);
    expect(v.results.map((r) => [r.threshold.kind, r.passed])).toEqual([
      ['lower_bound', true],
      ['upper_bound', false],
    ]);
    expect(v.blessed).toBe(false);
  });

  test('a NaN metric fails with a clear reason', () => {
    const c = config({ thresholds: { auc: { value_threshold: { lower_bound: 0.5 } } } });
    const v = validateMetrics(overall({ auc: NaN }), undefined, c);
    expect(v.blessed).toBe(false);
    expect(v.failures).toEqual(['auc on Overall is NaN (undefined on this slice), so it cannot meet the lower bound 0.5']);
    expect(v.results[0].value).toBeNaN();
  });
});

describe('change thresholds', () => {
  const change = (metric: string, t: Record<string, unknown>) => config({ thresholds: { [metric]: { change_threshold: t } } });
  const run = (metric: string, t: Record<string, unknown>, current: number, baseline: number) =>
    validateMetrics(overall({ [metric]: current }), overall({ [metric]: baseline }), change(metric, t));

  test('absolute, HIGHER_IS_BETTER: the change must be >= the bound (-0.01 allows a drop of 0.01)', () => {
    const t = { absolute: -0.01, direction: 'HIGHER_IS_BETTER' };
    const ok = run('auc', t, 0.895, 0.9);
    expect(ok.blessed).toBe(true);
    expect(ok.results[0]).toMatchObject({ value: 0.895, baseline_value: 0.9, passed: true });
    const drop = run('auc', t, 0.88, 0.9);
    expect(drop.blessed).toBe(false);
    expect(drop.failures).toEqual(['auc on Overall = 0.88 vs baseline 0.9: absolute change -0.02 is below the bound -0.01 (HIGHER_IS_BETTER)']);
  });

  test('absolute, LOWER_IS_BETTER: the change must be <= the bound', () => {
    const t = { absolute: 0.01, direction: 'LOWER_IS_BETTER' };
    expect(run('log_loss', t, 0.305, 0.3).blessed).toBe(true);
    expect(run('log_loss', t, 0.25, 0.3).blessed).toBe(true);
    expect(run('log_loss', t, 0.32, 0.3).failures).toEqual(['log_loss on Overall = 0.32 vs baseline 0.3: absolute change 0.02 is above the bound 0.01 (LOWER_IS_BETTER)']);
  });

  test('relative: (current - baseline) / |baseline|, both directions', () => {
    // 0.78 vs 0.8 is a relative change of -0.025.
    expect(run('auc', { relative: -0.05, direction: 'HIGHER_IS_BETTER' }, 0.78, 0.8).blessed).toBe(true);
    expect(run('auc', { relative: -0.02, direction: 'HIGHER_IS_BETTER' }, 0.78, 0.8).failures).toEqual([
      'auc on Overall = 0.78 vs baseline 0.8: relative change -0.025 is below the bound -0.02 (HIGHER_IS_BETTER)',
    ]);
    // 0.36 vs 0.3 is +20%.
    expect(run('log_loss', { relative: 0.1, direction: 'LOWER_IS_BETTER' }, 0.36, 0.3).blessed).toBe(false);
    expect(run('log_loss', { relative: 0.25, direction: 'LOWER_IS_BETTER' }, 0.36, 0.3).blessed).toBe(true);
  });

  test('a negative baseline divides by its magnitude, so an improvement stays positive', () => {
    const r2 = (current: number, baseline: number) =>
      validateMetrics(overall({ r2: current }), overall({ r2: baseline }), parseEvalConfig({ label_key: 'y', task: 'regression', thresholds: { r2: { change_threshold: { relative: 0.1, direction: 'HIGHER_IS_BETTER' } } } }));
    expect(r2(-0.4, -0.5).failures).toEqual([]); // +0.2
    expect(r2(-0.6, -0.5).failures).toEqual(['r2 on Overall = -0.6 vs baseline -0.5: relative change -0.2 is below the bound 0.1 (HIGHER_IS_BETTER)']);
  });

  test('a 0 baseline: relative change 0 when still 0, else ±Infinity, so the direction decides', () => {
    expect(run('log_loss', { relative: 0, direction: 'LOWER_IS_BETTER' }, 0, 0).blessed).toBe(true);
    expect(run('auc', { relative: 0.5, direction: 'HIGHER_IS_BETTER' }, 0.1, 0).blessed).toBe(true);
    expect(run('log_loss', { relative: 0.5, direction: 'LOWER_IS_BETTER' }, 0.1, 0).failures).toEqual([
      'log_loss on Overall = 0.1 vs baseline 0: relative change Infinity is above the bound 0.5 (LOWER_IS_BETTER)',
    ]);
  });

  test('absolute and relative together are two checks that must both pass', () => {
    const v = run('auc', { absolute: -0.05, relative: -0.01, direction: 'HIGHER_IS_BETTER' }, 0.78, 0.8);
    expect(v.results.map((r) => [r.threshold.kind, r.passed])).toEqual([
      ['absolute_change', true],
      ['relative_change', false],
    ]);
  });

  test('without a baseline model (first run) change thresholds pass, saying so', () => {
    const v = validateMetrics(overall({ auc: 0.5 }), undefined, change('auc', { absolute: 0, direction: 'HIGHER_IS_BETTER' }));
    expect(v.blessed).toBe(true);
    expect(v.results[0].reason).toBe('auc on Overall: no baseline model to compare with, so the absolute change bound 0 (HIGHER_IS_BETTER) passes (first run)');
    expect(v.results[0].baseline_value).toBeUndefined();
  });

  test('a baseline without the slice, or NaN there, cannot be compared with and fails', () => {
    const c = parseEvalConfig({
      label_key: 'y',
      task: 'binary',
      slicing_specs: [{}, { feature_keys: ['island'] }],
      per_slice_thresholds: [{ slicing_specs: [{ feature_keys: ['island'] }], metric: 'auc', threshold: { change_threshold: { absolute: -0.1, direction: 'HIGHER_IS_BETTER' } } }],
    });
    const current = [slice([['island', 'Biscoe']], { auc: 0.8 }), slice([['island', 'Dream']], { auc: 0.8 })];
    const baseline = [slice([['island', 'Biscoe']], { auc: NaN })];
    expect(validateMetrics(current, baseline, c).failures).toEqual([
      'auc on island:Biscoe: the baseline value is NaN, so the absolute change bound -0.1 (HIGHER_IS_BETTER) cannot be checked',
      'auc on island:Dream: the baseline has no value on this slice, so the absolute change bound -0.1 (HIGHER_IS_BETTER) cannot be checked',
    ]);
  });
});

describe('per-slice thresholds and the blessing', () => {
  const perIsland = config({
    thresholds: { accuracy: { value_threshold: { lower_bound: 0.9 } } },
    per_slice_thresholds: [{ slicing_specs: [{ feature_keys: ['island'] }], metric: 'accuracy', threshold: { value_threshold: { lower_bound: 0.85 } } }],
  });
  const evaluation = [slice([], { accuracy: 0.93 }), slice([['island', 'Biscoe']], { accuracy: 0.97 }), slice([['island', 'Dream']], { accuracy: 0.84 })];

  test('one failing slice fails the blessing and is named', () => {
    const v = validateMetrics(evaluation, undefined, perIsland);
    expect(v.results.map((r) => [r.slice, r.passed])).toEqual([
      ['Overall', true],
      ['island:Biscoe', true],
      ['island:Dream', false],
    ]);
    expect(v.blessed).toBe(false);
    expect(v.failures).toEqual(['accuracy on island:Dream = 0.84 is below the lower bound 0.85']);
  });

  test('the same thresholds pass when every slice meets them', () => {
    const better = evaluation.map((s) => ({ ...s, metrics: { accuracy: 0.95 } }));
    expect(validateMetrics(better, undefined, perIsland).blessed).toBe(true);
  });

  test('a slice a per-slice threshold names that is not in the evaluation fails', () => {
    const c = config({ per_slice_thresholds: [{ slicing_specs: [{ feature_values: { island: 'Torgersen' } }], metric: 'accuracy', threshold: { value_threshold: { lower_bound: 0.5 } } }] });
    const v = validateMetrics(evaluation, undefined, c);
    expect(v.blessed).toBe(false);
    expect(v.failures).toEqual(['slice island:Torgersen (per_slice_thresholds[0]) is not in the evaluation, so accuracy cannot be checked against the lower bound 0.5']);
  });

  test('overall thresholds on an evaluation without an Overall slice (no examples) fail', () => {
    const v = validateMetrics([], undefined, config({ thresholds: { accuracy: { value_threshold: { lower_bound: 0.5 } } } }));
    expect(v.failures).toEqual(['slice Overall (thresholds.accuracy) is not in the evaluation, so accuracy cannot be checked against the lower bound 0.5']);
  });

  test('a per-class metric of a class the evaluation does not have fails as not computed', () => {
    const c = parseEvalConfig({ label_key: 'y', task: 'multiclass', thresholds: { 'recall/Gentoo': { value_threshold: { lower_bound: 0.5 } } } });
    const v = validateMetrics(overall({ 'recall/Adelie': 0.9 }), undefined, c);
    expect(v.failures).toEqual(['recall/Gentoo on Overall is not computed, so the lower bound 0.5 cannot be checked']);
  });

  test('no thresholds at all: not blessed', () => {
    expect(validateMetrics(evaluation, undefined, config({}))).toEqual({ blessed: false, results: [], failures: [NO_THRESHOLDS] });
  });
});
