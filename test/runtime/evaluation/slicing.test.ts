// Slicing as TFMA does it: the overall slice, one slice per feature value, crosses (keys sorted by feature),
// feature_values picking one slice, missing values forming no slice, display names, and metrics computed
// per slice in one pass over a stream of examples.

import { computeMetrics, metricsAccumulator, parseEvalConfig, sliceMatchesSpec, sliceName, slicesOf, type EvalExample, type SlicingSpec } from '../../../runtime/evaluation';

const BISCOE_MALE = { island: 'Biscoe', sex: 'MALE', year: 2007 };

describe('slicesOf', () => {
  test('the empty spec is the overall slice', () => {
    expect(slicesOf(BISCOE_MALE, [{}])).toEqual([[]]);
    expect(slicesOf({}, [{}])).toEqual([[]]);
  });

  test('feature_keys: the example value of each feature; two features cross, sorted by feature name', () => {
    expect(slicesOf(BISCOE_MALE, [{ feature_keys: ['island'] }])).toEqual([[['island', 'Biscoe']]]);
    expect(slicesOf(BISCOE_MALE, [{ feature_keys: ['sex', 'island'] }])).toEqual([
      [
        ['island', 'Biscoe'],
        ['sex', 'MALE'],
      ],
    ]);
    expect(slicesOf(BISCOE_MALE, [{}, { feature_keys: ['island'] }, { feature_keys: ['year'] }])).toEqual([[], [['island', 'Biscoe']], [['year', 2007]]]);
  });

  test('feature_values: only the named value forms a slice, compared as text so numbers match', () => {
    expect(slicesOf(BISCOE_MALE, [{ feature_values: { island: 'Dream' } }])).toEqual([]);
    expect(slicesOf(BISCOE_MALE, [{ feature_values: { island: 'Biscoe' } }])).toEqual([[['island', 'Biscoe']]]);
    expect(slicesOf(BISCOE_MALE, [{ feature_values: { year: '2007' } }])).toEqual([[['year', 2007]]]);
    // Values and keys together: the sex slices within Biscoe.
    expect(slicesOf(BISCOE_MALE, [{ feature_values: { island: 'Biscoe' }, feature_keys: ['sex'] }])).toEqual([
      [
        ['island', 'Biscoe'],
        ['sex', 'MALE'],
      ],
    ]);
  });

  test('missing values (null, undefined, NaN, absent) form no slice for that spec only', () => {
    const specs: SlicingSpec[] = [{}, { feature_keys: ['island'] }, { feature_keys: ['sex'] }, { feature_keys: ['island', 'sex'] }, { feature_keys: ['mass'] }];
    expect(slicesOf({ island: 'Dream', sex: null, mass: NaN }, specs)).toEqual([[], [['island', 'Dream']]]);
    expect(slicesOf({ island: undefined, sex: 'FEMALE' }, specs)).toEqual([[], [['sex', 'FEMALE']]]);
  });

  test('bigint and boolean values: safe bigints become numbers, booleans text', () => {
    expect(slicesOf({ year: 2008n, tagged: true }, [{ feature_keys: ['year', 'tagged'] }])).toEqual([
      [
        ['tagged', 'true'],
        ['year', 2008],
      ],
    ]);
  });

  test('slicing on a feature holding lists or objects is an error naming it; other features may hold anything', () => {
    expect(() => slicesOf({ tags: ['a', 'b'] }, [{ feature_keys: ['tags'] }])).toThrow('cannot slice on feature "tags": its values are lists, not strings, numbers or booleans');
    expect(() => slicesOf({ day: new Date(0) }, [{ feature_values: { day: '1970' } }])).toThrow('cannot slice on feature "day": its values are objects');
    expect(slicesOf({ tags: ['a'], island: 'Dream' }, [{ feature_keys: ['island'] }])).toEqual([[['island', 'Dream']]]);
  });

  test('two specs producing the same slice give it once', () => {
    expect(slicesOf(BISCOE_MALE, [{ feature_keys: ['island'] }, { feature_values: { island: 'Biscoe' } }])).toEqual([[['island', 'Biscoe']]]);
  });
});

test('sliceName: Overall, feature:value, crosses joined by commas', () => {
  expect(sliceName([])).toBe('Overall');
  expect(sliceName([['island', 'Biscoe']])).toBe('island:Biscoe');
  expect(
    sliceName([
      ['island', 'Biscoe'],
      ['sex', 'MALE'],
    ]),
  ).toBe('island:Biscoe,sex:MALE');
  expect(sliceName([['year', 2007]])).toBe('year:2007');
});

test('sliceMatchesSpec: the same features, and the fixed values equal', () => {
  const cross: [string, string][] = [
    ['island', 'Dream'],
    ['sex', 'MALE'],
  ];
  expect(sliceMatchesSpec([], {})).toBe(true);
  expect(sliceMatchesSpec([['island', 'Dream']], {})).toBe(false);
  expect(sliceMatchesSpec([['island', 'Dream']], { feature_keys: ['island'] })).toBe(true);
  expect(sliceMatchesSpec([['island', 'Dream']], { feature_values: { island: 'Dream' } })).toBe(true);
  expect(sliceMatchesSpec([['island', 'Dream']], { feature_values: { island: 'Biscoe' } })).toBe(false);
  expect(sliceMatchesSpec(cross, { feature_keys: ['island'] })).toBe(false);
  expect(sliceMatchesSpec(cross, { feature_keys: ['sex', 'island'] })).toBe(true);
  expect(sliceMatchesSpec(cross, { feature_keys: ['sex'], feature_values: { island: 'Dream' } })).toBe(true);
  expect(sliceMatchesSpec([['year', 2007]], { feature_values: { year: '2007' } })).toBe(true);
});

describe('computeMetrics per slice', () => {
  // (island, sex, label, prediction): accuracy at 0.5 is hand-countable per slice.
  const rows: [string, string | null, number, number][] = [
    ['Biscoe', 'MALE', 1, 0.9], // right
    ['Biscoe', 'FEMALE', 0, 0.7], // wrong
    ['Biscoe', 'MALE', 0, 0.2], // right
    ['Dream', 'FEMALE', 1, 0.4], // wrong
    ['Dream', null, 1, 0.8], // right
    ['Torgersen', 'MALE', 0, 0.1], // right
  ];
  function* stream(): Generator<EvalExample> {
    for (const [island, sex, label, prediction] of rows) yield { label, prediction, features: { island, sex } };
  }
  const config = parseEvalConfig({
    label_key: 'species',
    task: 'binary',
    metrics: ['accuracy', 'example_count'],
    slicing_specs: [{}, { feature_keys: ['island'] }, { feature_keys: ['island', 'sex'] }, { feature_values: { sex: 'MALE' } }],
  });

  test('one pass over a stream: every slice with its key, name, count and metrics, Overall first', () => {
    const slices = computeMetrics(stream(), config);
    expect(slices.map((s) => [s.slice, s.example_count, s.metrics.accuracy])).toEqual([
      ['Overall', 6, 4 / 6],
      ['island:Biscoe', 3, 2 / 3],
      ['island:Dream', 2, 1 / 2],
      ['island:Torgersen', 1, 1],
      ['sex:MALE', 3, 1],
      ['island:Biscoe,sex:FEMALE', 1, 0],
      ['island:Biscoe,sex:MALE', 2, 1],
      ['island:Dream,sex:FEMALE', 1, 0],
      ['island:Torgersen,sex:MALE', 1, 1],
    ]);
    expect(slices[5].slice_key).toEqual([
      ['island', 'Biscoe'],
      ['sex', 'FEMALE'],
    ]);
  });

  test('fed in chunks (as predictions stream in), the accumulator gives the same slices', () => {
    const accumulator = metricsAccumulator(config);
    const all = [...stream()];
    all.slice(0, 4).forEach((e) => accumulator.add(e));
    expect(accumulator.result().map((s) => [s.slice, s.example_count])).toEqual([
      ['Overall', 4],
      ['island:Biscoe', 3],
      ['island:Dream', 1],
      ['sex:MALE', 2],
      ['island:Biscoe,sex:FEMALE', 1],
      ['island:Biscoe,sex:MALE', 2],
      ['island:Dream,sex:FEMALE', 1],
    ]);
    all.slice(4).forEach((e) => accumulator.add(e));
    expect(accumulator.result()).toEqual(computeMetrics(all, config));
  });

  test('a slice too small for a metric reports NaN for it, not an error', () => {
    const auc = parseEvalConfig({ label_key: 'y', task: 'binary', metrics: ['auc'], slicing_specs: [{}, { feature_keys: ['island'] }] });
    const byName = Object.fromEntries(computeMetrics(stream(), auc).map((s) => [s.slice, s.metrics.auc]));
    expect(byName['island:Torgersen']).toBeNaN();
    expect(byName['island:Dream']).toBeNaN(); // both labels 1
    expect(byName['island:Biscoe']).toBe(1);
    // Positives 0.9, 0.4, 0.8; negatives 0.7, 0.2, 0.1: 0.4 loses to 0.7 only → 8 of 9.
    expect(byName.Overall).toBeCloseTo(8 / 9, 12);
  });
});
