// Checks request values against a model's signature and turns them into the raw rows predictRows takes.
// Callers send RAW features (the transform runs inside the model server), so the checks are on the raw
// types: strings (or {"b64": ...}), integers, floats; required features present; no field the model does not
// know. Unknown categorical values pass: the transform maps them to out-of-vocabulary ids. Every message
// names where the bad value is (instance index or column, and field), because that is what a caller fixes.
// Pass-through fields (a static table's key that is not a model input) are accepted as plain strings or
// numbers and copied into the rows unchecked otherwise: the lookup and the request log read them.

import type { RawRow } from '../transform/apply';
import type { RawInput, Signature } from '../ml/signature';
import { badRequest } from './request-error';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A short description of a JSON value for error messages. */
export function describe(value: unknown): string {
  // A key the JSON did not have (messages about a missing key say so themselves; this is the fallback).
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length} values`;
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const INPUTS_BY_NAME = new WeakMap<Signature, ReadonlyMap<string, RawInput>>();

/**
 * The signature's inputs by name (a Map: request field names like "__proto__" must not hit Object members),
 * built once per loaded signature: every request looks its fields up here.
 */
export function inputsByName(signature: Signature): ReadonlyMap<string, RawInput> {
  let inputs = INPUTS_BY_NAME.get(signature);
  if (!inputs) INPUTS_BY_NAME.set(signature, (inputs = new Map(signature.inputs.map((i) => [i.name, i]))));
  return inputs;
}

function inputList(signature: Signature): string {
  return signature.inputs.map((i) => JSON.stringify(i.name)).join(', ');
}

/** A feature tensor's values for one example (an input of width k > 1, e.g. an ONNX model's [batch, k] input). */
function featureVector(input: RawInput, value: unknown, where: string): (string | number)[] | undefined {
  if (value === null || value === undefined) return undefined;
  const k = input.width!;
  if (!Array.isArray(value) || value.length !== k) throw badRequest(`${where}: "${input.name}" takes a list of ${k} values, got ${describe(value)}`);
  const scalar: RawInput = { name: input.name, dtype: input.dtype, required: true };
  return value.map((v, j) => {
    const x = featureValue(scalar, v, `${where}[${j}]`);
    if (x === undefined) throw badRequest(`${where}[${j}]: "${input.name}" takes ${k} values, got ${describe(v)}`);
    return x as string | number;
  });
}

/**
 * One feature value as predictRows takes it: a string, a number, or undefined when missing (null, absent,
 * an empty list); a list of `width` of them for a feature tensor input. A one-element list stands for its
 * element, as TF Serving accepts for [batch, 1] inputs.
 */
export function featureValue(input: RawInput, value: unknown, where: string): string | number | (string | number)[] | undefined {
  if (input.width !== undefined && input.width > 1) return featureVector(input, value, where);
  if (Array.isArray(value)) {
    if (value.length > 1) throw badRequest(`${where}: "${input.name}" takes one value, got ${describe(value)}`);
    value = value[0];
  }
  if (value === null || value === undefined) return undefined;
  if (input.dtype === 'string') {
    if (typeof value === 'string') return value;
    if (isPlainObject(value) && Object.keys(value).length === 1 && typeof value.b64 === 'string') {
      if (!BASE64.test(value.b64)) throw badRequest(`${where}: "${input.name}" has a "b64" value that is not base64`);
      return Buffer.from(value.b64, 'base64').toString('utf8');
    }
    throw badRequest(`${where}: "${input.name}" expects a string (or {"b64": ...}), got ${describe(value)}`);
  }
  if (typeof value !== 'number') throw badRequest(`${where}: "${input.name}" expects a number, got ${describe(value)}`);
  if (input.dtype === 'int' && !Number.isInteger(value)) throw badRequest(`${where}: "${input.name}" expects an integer, got ${describe(value)}`);
  return value;
}

const NO_FIELDS: ReadonlySet<string> = new Set();

/** A pass-through field's value: a string or number (or one-element list of it); undefined when missing. */
function passThroughValue(name: string, value: unknown, where: string): string | number | undefined {
  if (Array.isArray(value) && value.length === 1) value = value[0];
  if (value === null || value === undefined || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return value ?? undefined;
  throw badRequest(`${where}: "${name}" must be a string or a number, got ${describe(value)}`);
}

/**
 * Fields a request may carry besides the inputs: the label (rows taken straight from a data split carry it;
 * the model does not read it) and the pass-through fields.
 */
function isIgnoredField(signature: Signature, name: string): boolean {
  return name === signature.label.key;
}

function checkFieldNames(signature: Signature, inputs: ReadonlyMap<string, RawInput>, names: string[], where: string, passThrough: ReadonlySet<string>): void {
  for (const name of names) {
    if (!inputs.has(name) && !isIgnoredField(signature, name) && !passThrough.has(name)) {
      throw badRequest(`${where}: unknown field ${JSON.stringify(name)}; the model's inputs are ${inputList(signature)}`);
    }
  }
}

/**
 * One row from an object of named features (TF Serving's row format, or a classify/regress example). A
 * model with a single input also takes the bare value.
 */
export function rowFromObject(signature: Signature, inputs: ReadonlyMap<string, RawInput>, value: unknown, where: string, passThrough = NO_FIELDS): RawRow {
  if (!isPlainObject(value)) {
    if (signature.inputs.length === 1) value = { [signature.inputs[0].name]: value };
    else throw badRequest(`${where}: expected an object of named inputs, got ${describe(value)}`);
  }
  const obj = value as Record<string, unknown>;
  checkFieldNames(signature, inputs, Object.keys(obj), where, passThrough);
  const row: RawRow = {};
  for (const name of passThrough) if (!inputs.has(name) && Object.hasOwn(obj, name)) row[name] = passThroughValue(name, obj[name], where);
  for (const input of signature.inputs) {
    const v = Object.hasOwn(obj, input.name) ? featureValue(input, obj[input.name], where) : undefined;
    if (v === undefined && input.required) throw badRequest(`${where}: required field ${JSON.stringify(input.name)} is missing`);
    row[input.name] = v;
  }
  return row;
}

/**
 * Rows from columns of named features, all the same length (TF Serving's columnar format, or OIP tensors
 * once decoded). `where(name)` names a column in messages; `[i]` is appended for one value.
 */
export function rowsFromColumns(
  signature: Signature,
  inputs: ReadonlyMap<string, RawInput>,
  columns: Record<string, unknown>,
  where: (name: string) => string,
  what: string,
  passThrough = NO_FIELDS,
): RawRow[] {
  checkFieldNames(signature, inputs, Object.keys(columns), what, passThrough);
  let n: number | undefined;
  let first = '';
  for (const input of signature.inputs) {
    if (!Object.hasOwn(columns, input.name)) continue;
    const col = columns[input.name];
    if (!Array.isArray(col)) throw badRequest(`${where(input.name)}: expected a list with one value per example, got ${describe(col)}`);
    if (n === undefined) [n, first] = [col.length, input.name];
    else if (col.length !== n) throw badRequest(`${where(input.name)} has ${col.length} values but ${where(first)} has ${n}`);
  }
  if (n === undefined) throw badRequest(`${what} holds none of the model's inputs (${inputList(signature)})`);
  if (n === 0) throw badRequest(`${what} holds no examples`);
  const rows: RawRow[] = Array.from({ length: n }, () => ({}));
  for (const input of signature.inputs) {
    const col = Object.hasOwn(columns, input.name) ? (columns[input.name] as unknown[]) : undefined;
    if (!col && input.required) throw badRequest(`${what}: required field ${JSON.stringify(input.name)} is missing`);
    for (let i = 0; i < n; i++) {
      const v = col ? featureValue(input, col[i], `${where(input.name)}[${i}]`) : undefined;
      if (v === undefined && input.required) throw badRequest(`${where(input.name)}[${i}]: required field ${JSON.stringify(input.name)} is missing`);
      rows[i][input.name] = v;
    }
  }
  for (const name of passThrough) {
    const col = columns[name];
    if (inputs.has(name) || !Object.hasOwn(columns, name)) continue;
    if (!Array.isArray(col) || col.length !== n) throw badRequest(`${where(name)}: expected a list with one value per example (${n}), got ${describe(col)}`);
    col.forEach((v, i) => (rows[i][name] = passThroughValue(name, v, `${where(name)}[${i}]`)));
  }
  return rows;
}
