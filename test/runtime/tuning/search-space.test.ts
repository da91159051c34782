// The search space schema rejects malformed specs with messages naming the field, fills in defaults, and
// checkHyperparameters names the offending hyperparameter and the allowed range in one line.

import { formatZodIssues } from '../../../runtime/core/executor-io';
import { UserError } from '../../../runtime/core/errors';
import { checkHyperparameters, SearchSpace } from '../../../runtime/tuning';
import { fromUnit, toUnit } from '../../../runtime/tuning/search-space';

function problems(raw: unknown): string {
  const parsed = SearchSpace.safeParse(raw);
  if (parsed.success) throw new Error('expected the search space to be rejected');
  return formatZodIssues(parsed.error.issues);
}

const space = SearchSpace.parse({
  learning_rate: { type: 'double', min: 0.0001, max: 0.1, scale: 'log' },
  units: { type: 'int', min: 16, max: 128, step: 16 },
  layers: { type: 'int', min: 1, max: 4 },
  optimizer: { type: 'discrete', values: ['adam', 'sgd'] },
});
const valid = { learning_rate: 0.01, units: 64, layers: 2, optimizer: 'sgd' };

test('defaults are filled in: int step 1, linear double', () => {
  expect(SearchSpace.parse({ a: { type: 'int', min: 0, max: 3 }, b: { type: 'double', min: 0, max: 1 } })).toEqual({
    a: { type: 'int', min: 0, max: 3, step: 1 },
    b: { type: 'double', min: 0, max: 1, scale: 'linear' },
  });
});

test('malformed specs are rejected with the hyperparameter and the reason', () => {
  expect(problems({ lr: { type: 'double', min: 0.1, max: 0.001 } })).toBe('lr: min must be less than max');
  expect(problems({ n: { type: 'int', min: 5, max: 5 } })).toBe('n: min must be less than max');
  expect(problems({ lr: { type: 'double', min: 0, max: 1, scale: 'log' } })).toBe('lr: log scale needs min > 0');
  expect(problems({ opt: { type: 'discrete', values: [] } })).toBe('opt.values: discrete needs at least one value');
  expect(problems({ opt: { type: 'discrete', values: ['a', 'a'] } })).toBe('opt: discrete values must be distinct');
  expect(problems({ n: { type: 'int', min: 0.5, max: 3 } })).toMatch(/^n\.min: /);
  expect(problems({ n: { type: 'int', min: 0, max: 3, step: 0 } })).toMatch(/^n\.step: /);
  expect(problems({ x: { type: 'float', min: 0, max: 1 } })).toMatch(/^x\.type: .*'discrete' \| 'int' \| 'double'/);
  expect(problems({})).toBe('(root): the search space needs at least one hyperparameter');
});

test('values inside the space pass', () => {
  expect(() => checkHyperparameters(space, valid, 'trainer config')).not.toThrow();
  expect(() => checkHyperparameters(space, { ...valid, learning_rate: 0.1, units: 16, layers: 4 }, 'trainer config')).not.toThrow();
});

test.each([
  [{ learning_rate: 5 }, 'hyperparameter learning_rate=5 (in trainer config) is outside the search space: double in [0.0001, 0.1]'],
  [{ learning_rate: '0.01' }, 'hyperparameter learning_rate="0.01" (in trainer config) is outside the search space: double in [0.0001, 0.1]'],
  [{ units: 40 }, 'hyperparameter units=40 (in trainer config) is outside the search space: int in [16, 128] with step 16'],
  [{ layers: 2.5 }, 'hyperparameter layers=2.5 (in trainer config) is outside the search space: int in [1, 4]'],
  [{ optimizer: 'rmsprop' }, 'hyperparameter optimizer="rmsprop" (in trainer config) is outside the search space: one of ["adam", "sgd"]'],
  [{ optimizer: true }, 'hyperparameter optimizer=true (in trainer config) is outside the search space: one of ["adam", "sgd"]'],
])('%j is rejected with the allowed range', (change, message) => {
  const check = () => checkHyperparameters(space, { ...valid, ...change }, 'trainer config');
  expect(check).toThrow(UserError);
  expect(check).toThrow(message);
});

test('unknown and missing hyperparameters are named', () => {
  expect(() => checkHyperparameters(space, { ...valid, dropout: 0.1 }, 'trainer config')).toThrow(
    'hyperparameter dropout (in trainer config) is not in the search space, which has learning_rate, units, layers, optimizer',
  );
  const { units: _, ...withoutUnits } = valid;
  expect(() => checkHyperparameters(space, withoutUnits, 'trainer config')).toThrow(
    'hyperparameter units (in trainer config) is missing: the search space has int in [16, 128] with step 16',
  );
});

test('fromUnit and toUnit invert each other, end points included', () => {
  expect(fromUnit(space.learning_rate, 0)).toBe(0.0001);
  expect(fromUnit(space.learning_rate, 1)).toBe(0.1);
  expect(fromUnit(space.learning_rate, 0.5)).toBeCloseTo(Math.sqrt(0.0001 * 0.1), 12);
  expect(fromUnit(space.units, 0)).toBe(16);
  expect(fromUnit(space.units, 0.999)).toBe(128);
  for (const [name, value] of Object.entries(valid)) {
    const spec = space[name];
    expect(fromUnit(spec, toUnit(spec, value))).toBe(value);
  }
});
