// TensorFlow Serving's REST API (/v1/models/...): model status, metadata (signature_def), :predict in row
// ("instances" → "predictions") and columnar ("inputs" → "outputs") form, :classify and :regress on
// "examples"; the metadata advertises the classify or regress signature beside serving_default for the models
// those verbs serve. Shapes and error wording follow TF Serving, so its clients and tools work unchanged. Our
// addition: POST /v1/models/{name}:feedback {"request_id", "reward"} credits a reward in [0, 1] to the version
// that answered that request (feeding a bandit traffic policy and the reward metrics).

import type { RawType, Signature } from '../ml/signature';
import type { Prediction } from '../ml/serving-bundle';
import { decodePathSegment, type Reply, type RequestInfo, type Route, type Router } from './http-server';
import type { ModelRegistry, ServedModel, Servable, VersionRequest } from './model-registry';
import { badRequest, notFound } from './request-error';
import { describe, inputsByName, isPlainObject, rowFromObject, rowsFromColumns } from './request-rows';
import { hasNonFinite, inputTensors, outputColumn, outputTensors, type TensorSpec } from './signature-tensors';

const V1_PATH = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+)|\/labels\/([^/:]+))?(?:\/(metadata)|:(predict|classify|regress|feedback))?$/;
const SIGNATURE_NAME = 'serving_default';
/**
 * The classify / regress signatures, keyed as TF's Estimator export names them, advertised beside serving_default
 * (predict) for the models :classify / :regress serve (classifiers / regression models); a request may name
 * the one of its verb.
 */
const EXAMPLE_SIGNATURES = { classify: 'classification', regress: 'regression' } as const;
const DTYPES: Record<RawType, string> = { string: 'DT_STRING', int: 'DT_INT64', float: 'DT_FLOAT' };

function served(registry: ModelRegistry, name: string): ServedModel {
  const model = registry.get(name);
  if (!model) throw notFound(`Could not find any versions of model ${name}`);
  return model;
}

function status(model: ServedModel, req: VersionRequest): Reply {
  const version = req.label !== undefined ? model.labelVersion(req.label) : req.version;
  const statuses = model.versionStatuses().filter((s) => version === undefined || s.version === version);
  if (statuses.length === 0) {
    throw notFound(version === undefined ? `Could not find any versions of model ${model.name}` : `Could not find version ${version} of model ${model.name}`);
  }
  return {
    body: {
      model_version_status: statuses.map((s) => ({
        version: String(s.version),
        state: s.state,
        status: { error_code: s.error ? 'UNKNOWN' : 'OK', error_message: s.error ?? '' },
      })),
    },
  };
}

function tensorInfo(t: TensorSpec) {
  return { dtype: DTYPES[t.type], tensor_shape: { dim: t.shape.map((size) => ({ size: String(size), name: '' })), unknown_rank: false }, name: t.name };
}

function signatureDef(signature: Signature) {
  return {
    inputs: Object.fromEntries(inputTensors(signature).map((t) => [t.name, tensorInfo(t)])),
    outputs: Object.fromEntries(outputTensors(signature).map((t) => [t.name, tensorInfo(t)])),
    method_name: 'tensorflow/serving/predict',
  };
}

/**
 * The signature_def TF Serving shows for a classify / regress signature (its signature_defs.md): one input
 * "inputs", a batch of serialized tf.Example (DT_STRING); out "classes" and "scores" [batch, k] for classify,
 * "outputs" [batch, 1] for regress. Our REST :classify / :regress take the examples' features as JSON, as
 * TF Serving's REST API does.
 */
function exampleSignatureDef(signature: Signature): [string, ReturnType<typeof signatureDef>] {
  const inputs = { inputs: tensorInfo({ name: 'inputs', type: 'string', shape: [-1] }) };
  if (signature.task === 'regression') {
    return [EXAMPLE_SIGNATURES.regress, { inputs, outputs: { outputs: tensorInfo({ name: 'outputs', type: 'float', shape: [-1, 1] }) }, method_name: 'tensorflow/serving/regress' }];
  }
  const k = outputTensors(signature)[0].shape[1];
  const outputs = { classes: tensorInfo({ name: 'classes', type: 'string', shape: [-1, k] }), scores: tensorInfo({ name: 'scores', type: 'float', shape: [-1, k] }) };
  return [EXAMPLE_SIGNATURES.classify, { inputs, outputs, method_name: 'tensorflow/serving/classify' }];
}

function metadata(s: Servable): Reply {
  return {
    version: s.version,
    body: {
      model_spec: { name: s.model, signature_name: '', version: String(s.version) },
      metadata: { signature_def: { signature_def: Object.fromEntries([[SIGNATURE_NAME, signatureDef(s.signature)], exampleSignatureDef(s.signature)]) } },
    },
  };
}

function requestObject(body: unknown, verb: keyof typeof VERBS): Record<string, unknown> {
  if (!isPlainObject(body)) throw badRequest(`request body must be a JSON object, got ${describe(body)}`);
  const name = body.signature_name;
  if (name !== undefined && typeof name !== 'string') throw badRequest(`"signature_name" must be a string, got ${describe(name)}`);
  if (name !== undefined && name !== SIGNATURE_NAME && (verb === 'predict' || name !== EXAMPLE_SIGNATURES[verb])) throw badRequest(`Serving signature name: ${JSON.stringify(name)} not found in signature def`);
  return body;
}

function nonEmptyList(request: Record<string, unknown>, key: string): unknown[] {
  if (!Object.hasOwn(request, key)) throw badRequest(`"${key}" is missing; it must be a non-empty list`);
  const value = request[key];
  if (!Array.isArray(value) || value.length === 0) throw badRequest(`"${key}" must be a non-empty list, got ${describe(value)}`);
  return value;
}

async function predict(s: Servable, request: Record<string, unknown>): Promise<Reply> {
  const hasInstances = Object.hasOwn(request, 'instances');
  const hasInputs = Object.hasOwn(request, 'inputs');
  if (hasInstances && hasInputs) throw badRequest('Not allowed to have both "instances" and "inputs" in the request');
  if (!hasInstances && !hasInputs) throw badRequest('Missing "instances" or "inputs" key');
  const sig = s.signature;
  const inputs = inputsByName(sig);
  const outputs = outputTensors(sig);
  // With a single output TF Serving gives its values directly instead of an object of named outputs.
  const single = outputs.length === 1;
  if (hasInstances) {
    const rows = nonEmptyList(request, 'instances').map((v, i) => rowFromObject(sig, inputs, v, `instances[${i}]`, s.passThrough));
    const predictions = await s.predict(rows);
    return { version: s.version, nonFinite: hasNonFinite(predictions), body: { predictions: single ? outputColumn(predictions, outputs[0].name) : predictions } };
  }
  let columns = request.inputs;
  if (!isPlainObject(columns)) {
    if (sig.inputs.length !== 1) throw badRequest(`"inputs" must be an object of named input columns, got ${describe(columns)}`);
    columns = { [sig.inputs[0].name]: columns };
  }
  const rows = rowsFromColumns(sig, inputs, columns as Record<string, unknown>, (name) => `inputs[${JSON.stringify(name)}]`, 'inputs', s.passThrough);
  const predictions = await s.predict(rows);
  const column = (name: string) => outputColumn(predictions, name);
  return { version: s.version, nonFinite: hasNonFinite(predictions), body: { outputs: single ? column(outputs[0].name) : Object.fromEntries(outputs.map((o) => [o.name, column(o.name)])) } };
}

/**
 * classify / regress rows: each example with the request's "context" features added. TF Serving's REST doc:
 * features in "context" MUST NOT appear in the examples, so one that does is refused rather than overridden.
 */
function exampleRows(s: Servable, request: Record<string, unknown>) {
  const context = request.context;
  if (context !== undefined && !isPlainObject(context)) throw badRequest(`"context" must be an object of features, got ${describe(context)}`);
  const inputs = inputsByName(s.signature);
  return nonEmptyList(request, 'examples').map((e, i) => {
    if (!context || !isPlainObject(e)) return rowFromObject(s.signature, inputs, e, `examples[${i}]`, s.passThrough);
    const both = Object.keys(e).find((name) => Object.hasOwn(context, name));
    if (both !== undefined) throw badRequest(`examples[${i}]: feature ${JSON.stringify(both)} is also in "context" (a feature given in "context" must not appear in the examples)`);
    return rowFromObject(s.signature, inputs, { ...context, ...e }, `examples[${i}]`, s.passThrough);
  });
}

async function classify(s: Servable, request: Record<string, unknown>): Promise<Reply> {
  const { task, label } = s.signature;
  if (task === 'regression') throw badRequest(`model ${s.model} version ${s.version} is a regression model: use :regress or :predict`);
  const predictions = (await s.predict(exampleRows(s, request))) as Extract<Prediction, { probabilities: number[] }>[];
  return { version: s.version, nonFinite: hasNonFinite(predictions), body: { result: predictions.map((p) => p.probabilities.map((score, k) => [label.classes![k], score])) } };
}

async function regress(s: Servable, request: Record<string, unknown>): Promise<Reply> {
  if (s.signature.task !== 'regression') throw badRequest(`model ${s.model} version ${s.version} is a ${s.signature.task} classification model: use :classify or :predict`);
  const predictions = (await s.predict(exampleRows(s, request))) as Extract<Prediction, { predictions: [number] }>[];
  return { version: s.version, nonFinite: hasNonFinite(predictions), body: { result: predictions.map((p) => p.predictions[0]) } };
}

const VERBS = { predict, classify, regress };

function feedback(model: ServedModel, body: unknown): Reply {
  if (!isPlainObject(body)) throw badRequest(`request body must be a JSON object {"request_id": "...", "reward": number}, got ${describe(body)}`);
  const { request_id: id, reward } = body;
  if (typeof id !== 'string' || id === '') throw badRequest(`"request_id" must be the x-request-id of a predict response, got ${id === undefined ? 'none' : describe(id)}`);
  if (reward === undefined) throw badRequest('"reward" is missing; it must be a number in [0, 1]');
  if (typeof reward !== 'number' || !(reward >= 0 && reward <= 1)) throw badRequest(`"reward" must be a number in [0, 1], got ${describe(reward)}`);
  const served = model.feedback(id, reward);
  return { version: served.version, body: { request_id: id, model_version: String(served.version), ...(served.arm !== undefined ? { arm: served.arm } : {}) } };
}

function feedbackRoute(registry: ModelRegistry, name: string, model: string | undefined, req: VersionRequest): Route {
  return {
    method: 'POST',
    api: 'feedback',
    model,
    handle: async (body) => {
      const target = served(registry, name);
      if (req.version !== undefined || req.label !== undefined) throw badRequest(`feedback goes to /v1/models/${name}:feedback, without a version or label: the request id names the version`);
      return feedback(target, await body());
    },
  };
}

/** Most routes kept at once (see tfServingRouter). */
const ROUTE_CACHE_SIZE = 1000;

export function tfServingRouter(registry: ModelRegistry): Router {
  // The routes of served models' paths are kept, so a request does not match the pattern and build its
  // route every time; a route depends only on its path (the set of served models is fixed at start).
  // Bounded: a client naming ever new versions or labels empties it instead of growing it.
  const cache = new Map<string, Route>();
  return (path) => {
    const cached = cache.get(path);
    if (cached) return cached;
    const route = routeOf(registry, path);
    if (route?.model !== undefined) {
      if (cache.size >= ROUTE_CACHE_SIZE) cache.clear();
      cache.set(path, route);
    }
    return route;
  };
}

/** The route of a /v1/models/... path, or undefined when the path is not one of this API's. */
function routeOf(registry: ModelRegistry, path: string): Route | undefined {
  const m = V1_PATH.exec(path);
  if (!m) return undefined;
  const [, rawName, version, rawLabel, meta, verb] = m as unknown as (string | undefined)[];
  const name = decodePathSegment(rawName!);
  const label = rawLabel === undefined ? undefined : decodePathSegment(rawLabel);
  if (name === undefined || (rawLabel !== undefined && label === undefined)) return undefined;
  const req: VersionRequest = { version: version === undefined ? undefined : Number(version), label };
  const model = registry.get(name) ? name : undefined;
  if (verb === 'feedback') return feedbackRoute(registry, name, model, req);
  if (verb) {
    const verbName = verb as keyof typeof VERBS;
    const run = VERBS[verbName];
    return {
      method: 'POST',
      api: verb,
      model,
      handle: async (body, info: RequestInfo) => {
        served(registry, name).resolve(req); // a 404 before reading the body
        const request = requestObject(await body(), verbName);
        // Routed only now: versions may have been swapped while the body arrived. From here to queueing the
        // rows nothing awaits, so the version cannot be unloaded in between.
        return run(served(registry, name).route(req, info), request);
      },
    } satisfies Route;
  }
  return {
    method: 'GET',
    api: meta ? 'metadata' : 'status',
    model,
    handle: async () => (meta ? metadata(served(registry, name).resolve(req)) : status(served(registry, name), req)),
  } satisfies Route;
}
