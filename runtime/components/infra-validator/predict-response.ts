// The InfraValidator's check of one :predict answer, read as TF Serving's REST API writes it (bare NaN /
// Infinity allowed): JSON, HTTP 200, one prediction per instance sent, each with the signature's outputs in
// their shapes and types, every float finite. Each failure names its cause, so a NaN prediction or a short
// predictions list does not read as "no predictions".

import type { Signature } from '../../ml/signature';
import { describe, isPlainObject } from '../../serving/request-rows';
import { outputTensors, type TensorSpec } from '../../serving/signature-tensors';
import { parseTolerantJson } from '../../serving/tolerant-json';

/** At most this many characters of a body or a value go into a message. */
const SHOWN = 120;

function shown(text: string): string {
  return text.length > SHOWN ? `${text.slice(0, SHOWN)}…` : text;
}

/** Values as the server wrote them: numbers as their tokens (NaN, Infinity), the rest as JSON. */
function valuesText(values: unknown[]): string {
  return shown(`[${values.map((v) => (typeof v === 'number' ? String(v) : JSON.stringify(v))).join(', ')}]`);
}

/** What is wrong with one output's value for one instance ([k] values of the output's type), if anything. */
function outputFailure(output: TensorSpec, value: unknown): string | undefined {
  const k = output.shape[1] ?? 1;
  if (!Array.isArray(value) || value.length !== k) return `should be a list of ${k} ${output.type} values, got ${describe(value)}`;
  const bad = value.findIndex((v) => (output.type === 'string' ? typeof v !== 'string' : typeof v !== 'number' || (output.type === 'int' && !Number.isInteger(v))));
  if (bad >= 0) return `should hold ${output.type} values, got ${describe(value[bad])} at [${bad}]`;
  return undefined;
}

/** The instance's inputs it has no value for: the usual reason a model answers NaN. */
function missingInputs(signature: Signature, instance: Record<string, unknown>): string[] {
  return signature.inputs.map((i) => i.name).filter((name) => instance[name] === null || instance[name] === undefined);
}

/**
 * What is wrong with the answer (HTTP `status`, body `text`) to a :predict request with `instances`, or
 * undefined when it is a usable prediction of each.
 */
export function predictResponseFailure(status: number, text: string, instances: Record<string, unknown>[], signature: Signature): string | undefined {
  let body: unknown;
  try {
    body = parseTolerantJson(text);
  } catch (err) {
    return `HTTP ${status}, response is not valid JSON (${(err as Error).message}): ${JSON.stringify(shown(text))}`;
  }
  if (status !== 200) return `HTTP ${status} ${isPlainObject(body) && typeof body.error === 'string' ? body.error : shown(text)}`;
  if (!isPlainObject(body) || !Array.isArray(body.predictions)) {
    return `HTTP 200 without a "predictions" list: ${isPlainObject(body) ? `"predictions" is ${describe(body.predictions)}` : `the body is ${describe(body)}`}`;
  }
  const predictions: unknown[] = body.predictions;
  if (predictions.length !== instances.length) return `${predictions.length} predictions for ${instances.length} instance${instances.length === 1 ? '' : 's'} sent`;
  const outputs = outputTensors(signature);
  for (const [i, prediction] of predictions.entries()) {
    // With a single output TF Serving gives its values directly instead of an object of named outputs.
    const named = outputs.length === 1 ? { [outputs[0].name]: prediction } : prediction;
    if (!isPlainObject(named)) return `prediction ${i} is ${describe(prediction)}, not an object of the outputs ${outputs.map((o) => o.name).join(', ')}`;
    const lacking = outputs.filter((o) => !Object.hasOwn(named, o.name)).map((o) => o.name);
    if (lacking.length > 0) return `prediction ${i} lacks outputs ${lacking.join(', ')}`;
    for (const output of outputs) {
      const value = named[output.name];
      const wrong = outputFailure(output, value);
      if (wrong) return `prediction ${i} "${output.name}" ${wrong}`;
      const values = value as unknown[];
      const nonFinite = values.find((v) => typeof v === 'number' && !Number.isFinite(v));
      if (nonFinite === undefined) continue;
      const missing = missingInputs(signature, instances[i]);
      const because = missing.length > 0 ? `; the instance has no value for ${missing.map((m) => JSON.stringify(m)).join(', ')}` : '';
      return `prediction ${i} "${output.name}" is ${valuesText(values)}: the model produced a non-finite value (${nonFinite}) for this instance${because}`;
    }
  }
  return undefined;
}
