// Schema inference (TFDV's rules) and validation: every anomaly type this runtime emits is provoked by
// synthetic data and checked by type code and description; drift and skew with both comparators, including
// a category whose frequency grows 100-fold and a numeric column that starts holding error strings.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { sqlString } from '../../../runtime/data/duckdb';
import { ANOMALY_TYPE_CODES, listAnomalies, type AnomalyType, type Anomalies } from '../../../runtime/tfdv/anomalies-proto';
import { inferSchema, mergeInferredSchemas } from '../../../runtime/tfdv/infer-schema';
import type { Schema, SchemaFeature } from '../../../runtime/tfdv/schema-proto';
import type { DatasetFeatureStatistics } from '../../../runtime/tfdv/statistics-proto';
import { validateStatistics, type ValidateOptions } from '../../../runtime/tfdv/validate-statistics';
import { PENGUINS, statsOf } from './helpers';

let dir: string;
beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'tfdv-validate-'));
});
afterAll(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

/** 1000 rows: an id, a price, a color (5 red : 4 green : 1 blue), a 0/1 flag, two-value tags, ints as strings. */
const COLUMNS: Record<string, string> = {
  id: 'i',
  price: 'i * 0.5',
  color: `CASE WHEN i % 10 < 5 THEN 'red' WHEN i % 10 < 9 THEN 'green' ELSE 'blue' END`,
  flag: 'i % 2',
  tags: '[i, i + 1]',
  code: 'CAST(i % 7 AS VARCHAR)',
};

/** The base table with some columns' expressions (over the row number i) replaced or added. */
function variant(replace: Record<string, string>, rows = 1000): string {
  const cols = { ...COLUMNS, ...replace };
  return `SELECT ${Object.entries(cols).map(([c, e]) => `${e} AS ${c}`).join(', ')} FROM range(${rows}) t(i)`;
}

const BASE = variant({});

const seen = new Set<AnomalyType>();

function types(a: Anomalies, feature?: string): AnomalyType[] {
  const t = listAnomalies(a).filter((x) => feature === undefined || x.feature === feature).map((x) => x.reason.type);
  t.forEach((x) => seen.add(x));
  return t;
}

let schema: Schema;
let baseStats: DatasetFeatureStatistics;

async function check(select: string, edit?: (s: Schema) => void, opts?: ValidateOptions): Promise<Anomalies> {
  const s: Schema = JSON.parse(JSON.stringify(schema));
  edit?.(s);
  return validateStatistics(await statsOf(dir, 'cur', select), s, opts);
}

function f(s: Schema, name: string): SchemaFeature {
  return s.feature.find((x) => x.name === name)!;
}

beforeAll(async () => {
  baseStats = await statsOf(dir, 'base', BASE);
  schema = inferSchema(baseStats);
});

describe('schema inference', () => {
  it('infers types, presence, shapes and domains with TFDV rules', () => {
    expect(f(schema, 'id')).toEqual({ name: 'id', type: 'INT', presence: { minFraction: 1, minCount: '1' }, shape: { dim: [{ size: '1' }] } });
    expect(f(schema, 'price').type).toBe('FLOAT');
    expect(f(schema, 'price').floatDomain).toBeUndefined();
    expect(f(schema, 'color')).toMatchObject({ type: 'BYTES', domain: 'color' });
    expect(schema.stringDomain).toEqual([{ name: 'color', value: ['blue', 'green', 'red'] }]);
    expect(f(schema, 'flag').boolDomain).toEqual({});
    expect(f(schema, 'tags').shape).toEqual({ dim: [{ size: '2' }] });
    expect(f(schema, 'code').intDomain).toEqual({});
  });

  it('on penguins: partial presence gives min_count only; strings with few values get a domain', async () => {
    const penguins = inferSchema(await statsOf(dir, 'penguins', `SELECT * FROM read_json(${sqlString(PENGUINS)})`));
    const sex = f(penguins, 'Sex');
    expect(sex.presence).toEqual({ minCount: '1' });
    expect(sex.valueCount).toEqual({ min: '1', max: '1' });
    expect(penguins.stringDomain!.find((d) => d.name === 'Species')!.value).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(f(penguins, 'Species').presence).toEqual({ minFraction: 1, minCount: '1' });
  });

  it('merges the schemas of several splits to the looser expectation', async () => {
    const other = inferSchema(await statsOf(dir, 'eval', variant({ color: `CASE WHEN i % 2 = 0 THEN 'red' ELSE 'purple' END`, price: 'CASE WHEN i < 10 THEN NULL ELSE i * 0.5 END' })));
    const merged = mergeInferredSchemas(schema, other);
    expect(merged.stringDomain).toEqual([{ name: 'color', value: ['blue', 'green', 'purple', 'red'] }]);
    expect(f(merged, 'price').presence).toEqual({ minCount: '1' });
    expect(f(merged, 'price').valueCount).toEqual({ min: '1', max: '1' });
  });

  it('validates the data it was inferred from without anomalies', () => {
    expect(types(validateStatistics(baseStats, schema))).toEqual([]);
  });
});

describe('anomalies', () => {
  it('missing and new columns', async () => {
    const a = await check(`SELECT * EXCLUDE (price), 1 AS extra FROM (${BASE})`);
    expect(a.anomalyInfo.price.reason[0]).toEqual({ type: 'SCHEMA_MISSING_COLUMN', shortDescription: 'Column dropped', description: 'Column is completely missing' });
    expect(a.anomalyInfo.price.path).toEqual({ step: ['price'] });
    expect(types(a)).toEqual(['SCHEMA_MISSING_COLUMN', 'SCHEMA_NEW_COLUMN']);
  });

  it('presence: fraction, count and not present', async () => {
    const low = await check(variant({ price: 'CASE WHEN i % 20 = 0 THEN NULL ELSE i * 0.5 END' }));
    expect(types(low, 'price')).toEqual(['FEATURE_TYPE_LOW_FRACTION_PRESENT', 'INVALID_FEATURE_SHAPE']);
    expect(low.anomalyInfo.price.description).toContain('actual = 0.95 (50 of 1000 examples miss it)');
    const count = await check(BASE, (s) => (f(s, 'id').presence!.minCount = '2000'));
    expect(types(count, 'id')).toEqual(['FEATURE_TYPE_LOW_NUMBER_PRESENT']);
    const none = await check(variant({ price: 'CAST(NULL AS DOUBLE)' }));
    expect(types(none, 'price')).toEqual(['FEATURE_TYPE_NOT_PRESENT']);
  });

  it('number of values: fixed shape, too few, too many, none', async () => {
    const shape = await check(variant({ tags: 'CASE WHEN i = 7 THEN [1, 2, 3] ELSE [i, i] END' }));
    expect(types(shape, 'tags')).toEqual(['INVALID_FEATURE_SHAPE']);
    expect(shape.anomalyInfo.tags.description).toContain('examples have 2..3 values');
    const asCounts = (s: Schema) => {
      delete f(s, 'tags').shape;
      f(s, 'tags').valueCount = { min: '2', max: '2' };
    };
    expect(types(await check(variant({ tags: 'CASE WHEN i = 7 THEN [1, 2, 3] ELSE [i, i] END' }), asCounts), 'tags')).toEqual(['FEATURE_TYPE_HIGH_NUMBER_VALUES']);
    expect(types(await check(variant({ tags: 'CASE WHEN i = 7 THEN [1] ELSE [i, i] END' }), asCounts), 'tags')).toEqual(['FEATURE_TYPE_LOW_NUMBER_VALUES']);
    expect(types(await check(variant({ tags: 'CASE WHEN i = 7 THEN []::INTEGER[] ELSE [i, i] END' }), asCounts), 'tags')).toEqual(['FEATURE_TYPE_NO_VALUES']);
  });

  it('domains: unexpected categories, out-of-range ints and floats, NaN and Inf, booleans, int strings', async () => {
    const colors = await check(variant({ color: `CASE WHEN i % 100 = 0 THEN 'purple' ELSE 'red' END` }));
    expect(types(colors, 'color')).toEqual(['ENUM_TYPE_UNEXPECTED_STRING_VALUES']);
    expect(colors.anomalyInfo.color.description).toBe('Examples contain values missing from the schema: purple (~1%).');

    const ranges = (s: Schema) => {
      f(s, 'id').intDomain = { min: '0', max: '999' };
      f(s, 'price').floatDomain = { min: 0, max: 500, disallowNan: true, disallowInf: true };
    };
    expect(types(await check(variant({ id: 'i - 5' }), ranges), 'id')).toEqual(['INT_TYPE_SMALL_INT']);
    expect(types(await check(variant({ id: 'i * 3' }), ranges), 'id')).toEqual(['INT_TYPE_BIG_INT']);
    expect(types(await check(variant({ price: 'i * 0.5 - 1' }), ranges), 'price')).toEqual(['FLOAT_TYPE_SMALL_FLOAT']);
    expect(types(await check(variant({ price: 'i * 0.6' }), ranges), 'price')).toEqual(['FLOAT_TYPE_BIG_FLOAT']);
    expect(types(await check(variant({ price: `CASE WHEN i = 3 THEN 'NaN'::DOUBLE ELSE i * 0.5 END` }), ranges), 'price')).toEqual(['FLOAT_TYPE_HAS_NAN']);
    const inf = await check(variant({ price: `CASE WHEN i = 3 THEN '-Infinity'::DOUBLE ELSE i * 0.5 END` }), ranges);
    expect(types(inf, 'price')).toEqual(['FLOAT_TYPE_SMALL_FLOAT', 'FLOAT_TYPE_HAS_INF']);

    expect(types(await check(variant({ flag: 'i % 3' })), 'flag')).toEqual(['BOOL_TYPE_BIG_INT']);
    expect(types(await check(variant({ flag: '(i % 2) - 1' })), 'flag')).toEqual(['BOOL_TYPE_SMALL_INT']);
    expect(types(await check(variant({ code: `CASE WHEN i = 5 THEN 'x' ELSE CAST(i % 7 AS VARCHAR) END` })), 'code')).toEqual(['INT_TYPE_NOT_INT_STRING']);
  });

  it('type changes: a numeric column with error strings is a type anomaly, not a crash; strings now numbers', async () => {
    const errors = await check(variant({ price: `CASE WHEN i % 250 = 0 THEN 'ERROR' ELSE CAST(i * 0.5 AS VARCHAR) END` }));
    expect(types(errors, 'price')).toEqual(['UNEXPECTED_DATA_TYPE']);
    expect(errors.anomalyInfo.price.description).toBe('Expected data of type: FLOAT but got STRING. 4 of 1000 values are not numbers, e.g. ERROR (<1%).');
    expect(types(await check(variant({ color: 'i % 3' })), 'color')).toEqual(['STRING_TYPE_NOW_INT']);
    expect(types(await check(variant({ color: 'i * 0.5' })), 'color')).toEqual(['STRING_TYPE_NOW_FLOAT']);
  });

  it('dataset size bounds, absolute and relative to the previous span', async () => {
    const bounds = (min: string, max: string) => (s: Schema) => (s.datasetConstraints = { minExamplesCount: min, maxExamplesCount: max });
    expect(types(await check(BASE, bounds('2000', '5000')))).toEqual(['DATASET_LOW_NUM_EXAMPLES']);
    expect(types(await check(BASE, bounds('1', '10')))).toEqual(['DATASET_HIGH_NUM_EXAMPLES']);
    const drift = (s: Schema) => (s.datasetConstraints = { numExamplesDriftComparator: { minFractionThreshold: 0.9, maxFractionThreshold: 1.1 } });
    const low = await check(variant({}, 800), drift, { previous: baseStats });
    expect(types(low)).toEqual(['COMPARATOR_LOW_NUM_EXAMPLES']);
    expect(low.datasetAnomalyInfo!.description).toContain('0.8 (800 / 1000)');
    expect(types(await check(variant({}, 1200), drift, { previous: baseStats }))).toEqual(['COMPARATOR_HIGH_NUM_EXAMPLES']);
  });
});

describe('drift and skew comparators', () => {
  /** 20,000 rows where category 'rare' has frequency `rare` (the rest split between a and b). */
  const categories = (rare: number) =>
    `SELECT CASE WHEN i < ${Math.round(rare * 20000)} THEN 'rare' WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS cat, (i % 1000) * 1.0 AS x FROM range(20000) t(i)`;

  it('flags a category whose frequency grows 100-fold by its L-infinity distance and names it', async () => {
    const previous = await statsOf(dir, 'prev', categories(0.001));
    const current = await statsOf(dir, 'cur', categories(0.1));
    const s = inferSchema(previous);
    f(s, 'cat').driftComparator = { infinityNorm: { threshold: 0.01 } };
    // The domain is unchanged ('rare' existed before): only the distribution moved.
    const a = validateStatistics(current, s, { previous });
    expect(types(a)).toEqual(['COMPARATOR_L_INFTY_HIGH']);
    const r = a.anomalyInfo.cat.reason[0];
    expect(r.shortDescription).toBe('High Linfty distance between current and previous');
    // |0.1 − 0.001| = 0.099, the worst value is 'rare'.
    expect(r.description).toBe(
      'The Linfty distance between current and previous is 0.099 (up to six significant digits), above the threshold 0.01. The feature value with maximum difference is: rare',
    );
    expect(a.driftSkewInfo).toEqual([{ path: { step: ['cat'] }, driftMeasurements: [{ type: 'L_INFTY', value: expect.closeTo(0.099, 9), threshold: 0.01 }] }]);
    // Below the threshold nothing is reported, but the measurement is kept.
    f(s, 'cat').driftComparator = { infinityNorm: { threshold: 0.2 } };
    const quiet = validateStatistics(current, s, { previous });
    expect(types(quiet)).toEqual([]);
    expect(quiet.driftSkewInfo![0].driftMeasurements![0].value).toBeCloseTo(0.099, 9);
  });

  it('normalized absolute difference and skew against serving statistics', async () => {
    const training = await statsOf(dir, 'train', categories(0.001));
    const serving = await statsOf(dir, 'serving', categories(0.3));
    const s = inferSchema(training);
    f(s, 'cat').skewComparator = { normalizedAbsDifference: { threshold: 0.1 } };
    const a = validateStatistics(training, s, { serving });
    expect(types(a)).toEqual(['COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH']);
    expect(a.anomalyInfo.cat.reason[0].description).toMatch(/^The normalized absolute difference between training and serving is 0\.299 .* is: rare$/);
    expect(a.driftSkewInfo![0].skewMeasurements![0].type).toBe('NORMALIZED_ABSOLUTE_DIFFERENCE');
  });

  it('flags a shifted numeric distribution by Jensen-Shannon divergence on aligned histograms', async () => {
    const previous = await statsOf(dir, 'prev', `SELECT (i % 1000) * 1.0 AS x FROM range(20000) t(i)`);
    const shifted = await statsOf(dir, 'cur', `SELECT (i % 1000) * 1.0 + 500 AS x FROM range(20000) t(i)`);
    const same = await statsOf(dir, 'cur', `SELECT ((i * 7) % 1000) * 1.0 AS x FROM range(20000) t(i)`);
    const s = inferSchema(previous);
    f(s, 'x').driftComparator = { jensenShannonDivergence: { threshold: 0.1 } };
    const a = validateStatistics(shifted, s, { previous });
    expect(types(a)).toEqual(['COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH']);
    // Half the mass moved to where there was none: JSD = 0.5 exactly for uniform densities.
    expect(a.driftSkewInfo![0].driftMeasurements![0].value).toBeCloseTo(0.5, 2);
    expect(a.anomalyInfo.x.reason[0].description).toMatch(/The bucket with maximum difference is: \[\d+(\.\d+)?, \d+(\.\d+)?\)$/);
    const b = validateStatistics(same, s, { previous });
    expect(types(b)).toEqual([]);
    expect(b.driftSkewInfo![0].driftMeasurements![0].value).toBeLessThan(1e-9);
  });
});

afterAll(() => {
  // Every anomaly type the validator can emit was provoked by a test above.
  expect([...seen].sort()).toEqual(Object.keys(ANOMALY_TYPE_CODES).sort());
});
