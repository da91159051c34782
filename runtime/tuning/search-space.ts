// The hyperparameter search space: its zod schema, the check of user-given hyperparameters against it, and
// the mapping between hyperparameter values and the unit interval that every search algorithm works in
// (random sampling, grid points and the Gaussian process's inputs all go through toUnit/fromUnit).

import { z } from 'zod';
import { UserError } from '../core/errors';
import { randomPoint, type Rng } from './random';

export type HyperparameterValue = number | string | boolean;
export type Hyperparameters = Record<string, HyperparameterValue>;

const DiscreteSpec = z
  .object({
    type: z.literal('discrete').describe('One of the listed values'),
    values: z.array(z.union([z.number(), z.string(), z.boolean()])).min(1, 'discrete needs at least one value').describe('The values to choose from (distinct)'),
  })
  .refine((s) => new Set(s.values).size === s.values.length, { message: 'discrete values must be distinct' });

const IntSpec = z
  .object({
    type: z.literal('int').describe('A whole number from min to max'),
    min: z.number().int().describe('Smallest value'),
    max: z.number().int().describe('Largest value'),
    step: z.number().int().positive().default(1).describe('Values are min, min + step, …'),
  })
  .refine((s) => s.min < s.max, { message: 'min must be less than max' });

const DoubleSpec = z
  .object({
    type: z.literal('double').describe('A number from min to max'),
    min: z.number().describe('Smallest value'),
    max: z.number().describe('Largest value'),
    scale: z.enum(['linear', 'log']).default('linear').describe('log searches orders of magnitude evenly (min > 0)'),
  })
  .refine((s) => s.min < s.max, { message: 'min must be less than max' })
  .refine((s) => s.scale !== 'log' || s.min > 0, { message: 'log scale needs min > 0' });

export const ParameterSpec = z.discriminatedUnion('type', [DiscreteSpec, IntSpec, DoubleSpec]);
export type ParameterSpec = z.infer<typeof ParameterSpec>;

/** Hyperparameter name → how it may vary. Parse user input with it: defaults (step 1, linear scale) are filled in. */
export const SearchSpace = z
  .record(z.string().min(1), ParameterSpec)
  .refine((s) => Object.keys(s).length > 0, { message: 'the search space needs at least one hyperparameter' });
export type SearchSpace = z.infer<typeof SearchSpace>;

type IndexedSpec = Extract<ParameterSpec, { type: 'discrete' | 'int' }>;

/** How many values a discrete or int hyperparameter can take. */
export function choiceCount(spec: IndexedSpec): number {
  return spec.type === 'discrete' ? spec.values.length : Math.floor((spec.max - spec.min) / spec.step) + 1;
}

/** The i-th value (0-based) of a discrete or int hyperparameter. */
export function choiceAt(spec: IndexedSpec, i: number): HyperparameterValue {
  return spec.type === 'discrete' ? spec.values[i] : spec.min + i * spec.step;
}

/** A readable statement of what the space allows, for error messages. */
export function describeParameter(spec: ParameterSpec): string {
  switch (spec.type) {
    case 'discrete':
      return `one of [${spec.values.map(formatValue).join(', ')}]`;
    case 'int':
      return `int in [${spec.min}, ${spec.max}]${spec.step === 1 ? '' : ` with step ${spec.step}`}`;
    case 'double':
      return `double in [${spec.min}, ${spec.max}]`;
  }
}

function formatValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function allows(spec: ParameterSpec, value: unknown): boolean {
  switch (spec.type) {
    case 'discrete':
      return spec.values.includes(value as HyperparameterValue);
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= spec.min && value <= spec.max && (value - spec.min) % spec.step === 0;
    case 'double':
      return typeof value === 'number' && value >= spec.min && value <= spec.max;
  }
}

/**
 * Throws a one-line UserError unless `values` names exactly the space's hyperparameters, each inside its
 * range. `where` says where the values came from (e.g. "trainer config").
 */
export function checkHyperparameters(space: SearchSpace, values: Record<string, unknown>, where: string): void {
  const known = Object.keys(space);
  for (const name of Object.keys(values)) {
    if (!(name in space)) throw new UserError(`hyperparameter ${name} (in ${where}) is not in the search space, which has ${known.join(', ')}`);
  }
  for (const [name, spec] of Object.entries(space)) {
    if (!(name in values)) throw new UserError(`hyperparameter ${name} (in ${where}) is missing: the search space has ${describeParameter(spec)}`);
    if (!allows(spec, values[name])) {
      throw new UserError(`hyperparameter ${name}=${formatValue(values[name])} (in ${where}) is outside the search space: ${describeParameter(spec)}`);
    }
  }
}

// exp(log(1e-4)) is 1.0000000000000002e-4: rounding to 12 significant digits gives back the numbers the user
// wrote for grid end points and keeps values readable, far below any precision a hyperparameter needs.
function tidy(value: number, spec: Extract<ParameterSpec, { type: 'double' }>): number {
  return Math.min(spec.max, Math.max(spec.min, Number(value.toPrecision(12))));
}

/**
 * The hyperparameter value at u in [0, 1]: discrete and int values own equal slices of the interval (so a
 * uniform u picks each equally often), doubles are linear in u, or linear in log(value) on a log scale.
 */
export function fromUnit(spec: ParameterSpec, u: number): HyperparameterValue {
  if (spec.type !== 'double') {
    const count = choiceCount(spec);
    return choiceAt(spec, Math.min(count - 1, Math.max(0, Math.floor(u * count))));
  }
  if (spec.scale === 'log') return tidy(Math.exp(Math.log(spec.min) + u * (Math.log(spec.max) - Math.log(spec.min))), spec);
  return tidy(spec.min + u * (spec.max - spec.min), spec);
}

/** The inverse of fromUnit: discrete and int values map to the middle of their slice. */
export function toUnit(spec: ParameterSpec, value: HyperparameterValue): number {
  switch (spec.type) {
    case 'discrete':
      return (spec.values.indexOf(value) + 0.5) / spec.values.length;
    case 'int':
      return (((value as number) - spec.min) / spec.step + 0.5) / choiceCount(spec);
    case 'double':
      return spec.scale === 'log'
        ? (Math.log(value as number) - Math.log(spec.min)) / (Math.log(spec.max) - Math.log(spec.min))
        : ((value as number) - spec.min) / (spec.max - spec.min);
  }
}

/** The hyperparameters at a point of the unit cube, one coordinate per hyperparameter in the space's order. */
export function pointToHyperparameters(space: SearchSpace, point: readonly number[]): Hyperparameters {
  return Object.fromEntries(Object.entries(space).map(([name, spec], i) => [name, fromUnit(spec, point[i])]));
}

/** The point of the unit cube for hyperparameters produced by pointToHyperparameters. */
export function hyperparametersToPoint(space: SearchSpace, values: Hyperparameters): number[] {
  return Object.entries(space).map(([name, spec]) => toUnit(spec, values[name]));
}

/** Hyperparameters drawn uniformly from the unit cube: each discrete or int value equally likely, log scales log-uniform. */
export function randomHyperparameters(space: SearchSpace, rng: Rng): Hyperparameters {
  return pointToHyperparameters(space, randomPoint(Object.keys(space).length, rng));
}
