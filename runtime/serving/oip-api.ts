// The Open Inference Protocol v2 REST API (KServe, Triton, MLServer): server health and metadata, model
// metadata and readiness, and /infer on typed tensors — one input tensor per raw feature (BYTES for strings,
// a numeric datatype for numbers; shape [n] or [n, 1], or [n, k] for an ONNX model's feature tensor) and the outputs as FP32 / INT64 / BYTES tensors
// (NaN and ±Infinity as the bare tokens /v1 writes). Requests and responses may carry tensors as binary data
// (OIP's binary tensor data extension, oip-binary.ts).

import { RUNTIME_VERSION } from '../core/version';
import type { RawType } from '../ml/signature';
import { decodePathSegment, type Reply, type RequestInfo, type Route, type Router } from './http-server';
import type { ModelRegistry, ServedModel, Servable, VersionRequest } from './model-registry';
import { binaryOutputs, encodeOutputs, INFERENCE_HEADER, parseInferBody } from './oip-binary';
import { stringifyTolerantJson } from './tolerant-json';
import { badRequest, notFound } from './request-error';
import { describe, inputsByName, isPlainObject, rowsFromColumns } from './request-rows';
import { hasNonFinite, inputTensors, outputColumn, outputTensors, type TensorSpec } from './signature-tensors';

const SERVER_NAME = 'mlp-model-server';
/** OIP's free-form platform string for what runs the model (Triton's name for ONNX Runtime). */
const PLATFORM = 'tensorflowjs_layers';
const ONNX_PLATFORM = 'onnxruntime_onnx';
const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer))?$/;
const DATATYPES: Record<RawType, string> = { string: 'BYTES', int: 'INT64', float: 'FP32' };
const INTEGER_TYPES = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);
const NUMERIC_TYPES = new Set([...INTEGER_TYPES, 'FP16', 'FP32', 'FP64']);

function served(registry: ModelRegistry, name: string): ServedModel {
  const model = registry.get(name);
  if (!model) throw notFound(`model ${JSON.stringify(name)} is not served here`);
  return model;
}

function versionRequest(name: string, version: string | undefined): VersionRequest {
  if (version === undefined) return {};
  if (!/^\d+$/.test(version)) throw notFound(`model ${JSON.stringify(name)} has no version ${JSON.stringify(version)}`);
  return { version: Number(version) };
}

function modelMetadata(model: ServedModel, s: Servable): Reply {
  const tensor = (t: TensorSpec) => ({ name: t.name, datatype: DATATYPES[t.type], shape: t.shape });
  return {
    version: s.version,
    body: {
      name: model.name,
      versions: model.availableVersions().map(String),
      platform: s.signature.framework === 'onnx' ? ONNX_PLATFORM : PLATFORM,
      inputs: inputTensors(s.signature).map(tensor),
      outputs: outputTensors(s.signature).map(tensor),
    },
  };
}

function modelReady(model: ServedModel, req: VersionRequest): Reply {
  // A version that is not loaded is unknown here, a 404 as metadata and infer answer; 503 means known but not ready.
  if (req.version !== undefined) model.resolve(req);
  const ready = model.isReady(req.version);
  return { status: ready ? 200 : 503, body: { name: model.name, ready } };
}

/** What a request gave for a field, or that it gave nothing ("got undefined undefined" named nothing). */
function got(value: unknown): string {
  return value === undefined ? 'it is missing' : `got ${describe(value)}`;
}

/** The input tensors as columns of values by feature name, after checking names, datatypes and shapes. */
function tensorColumns(s: Servable, tensors: unknown): Record<string, unknown[]> {
  if (!Array.isArray(tensors) || tensors.length === 0) throw badRequest(`"inputs" must be a non-empty list of tensors {name, shape, datatype, data}; ${got(tensors)}`);
  const inputs = inputsByName(s.signature);
  const columns: Record<string, unknown[]> = {};
  let batch: number | undefined;
  tensors.forEach((t, i) => {
    if (!isPlainObject(t) || typeof t.name !== 'string') throw badRequest(`inputs[${i}] must be a tensor {name, shape, datatype, data}; ${isPlainObject(t) ? `"name" must be a string, ${got(t.name)}` : got(t)}`);
    const where = `input tensor ${JSON.stringify(t.name)}`;
    const input = inputs.get(t.name);
    if (!input && s.passThrough.has(t.name)) {
      // A pass-through field (the static table's key): any datatype, checked as values by rowsFromColumns.
      if (Object.hasOwn(columns, t.name)) throw badRequest(`${where} is given twice`);
      if (!Array.isArray(t.data)) throw badRequest(`${where}: "data" must be a list; ${got(t.data)}`);
      columns[t.name] = t.data.flat(1);
      return;
    }
    if (!input) {
      // The label is not an input; rows taken from a data split carry it, and it is ignored like in /v1.
      if (t.name === s.signature.label.key) return;
      throw badRequest(`unknown ${where}; the model's inputs are ${s.signature.inputs.map((x) => JSON.stringify(x.name)).join(', ')}`);
    }
    if (Object.hasOwn(columns, t.name)) throw badRequest(`${where} is given twice`);
    const datatype = t.datatype;
    const fits = input.dtype === 'string' ? datatype === 'BYTES' : NUMERIC_TYPES.has(datatype as string);
    if (datatype === undefined) throw badRequest(`${where}: "datatype" is missing; use ${input.dtype === 'string' ? 'BYTES' : 'FP32, FP64 or INT64'}`);
    if (!fits) throw badRequest(`${where}: datatype ${describe(datatype)} does not fit the model's ${input.dtype} input; use ${input.dtype === 'string' ? 'BYTES' : 'FP32, FP64 or INT64'}`);
    const shape = t.shape;
    const k = input.width ?? 1;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || !((shape.length === 1 && k === 1) || (shape.length === 2 && shape[1] === k))) {
      throw badRequest(`${where}: "shape" must be ${k === 1 ? '[n] or [n, 1]' : `[n, ${k}]`}; ${shape === undefined ? 'it is missing' : `got ${JSON.stringify(shape)}`}`);
    }
    const n = shape[0] as number;
    if (batch !== undefined && n !== batch) throw badRequest(`${where} has ${n} rows but the other input tensors have ${batch}`);
    batch = n;
    if (!Array.isArray(t.data)) throw badRequest(`${where}: "data" must be a list; ${got(t.data)}`);
    // Data may be flat (row-major) or nested as [[v], [v], ...] for shape [n, 1] ([[v1..vk], ...] for [n, k]).
    const data = t.data.flat(1);
    if (data.length !== n * k) throw badRequest(`${where}: shape ${JSON.stringify(shape)} needs ${n * k} values, "data" has ${data.length}`);
    if (INTEGER_TYPES.has(datatype as string)) {
      const bad = data.findIndex((v) => v !== null && !Number.isInteger(v));
      if (bad >= 0) throw badRequest(`${where} data[${bad}]: ${String(datatype)} values must be integers, got ${describe(data[bad])}`);
    }
    columns[t.name] = k === 1 ? data : Array.from({ length: n }, (_, r) => data.slice(r * k, (r + 1) * k));
  });
  return columns;
}

async function infer(s: Servable, request: unknown, requestId: string): Promise<Reply> {
  if (!isPlainObject(request)) throw badRequest(`request body must be a JSON object, got ${describe(request)}`);
  if (request.id !== undefined && typeof request.id !== 'string') throw badRequest(`"id" must be a string, got ${describe(request.id)}`);
  const sig = s.signature;
  const available = outputTensors(sig);
  let wanted = available;
  if (request.outputs !== undefined) {
    if (!Array.isArray(request.outputs)) throw badRequest(`"outputs" must be a list of {name}, got ${describe(request.outputs)}`);
    wanted = request.outputs.map((o, i) => {
      const found = isPlainObject(o) ? available.find((a) => a.name === o.name) : undefined;
      if (!found) throw badRequest(`outputs[${i}]: unknown output ${describe(isPlainObject(o) ? o.name : o)}; the model's outputs are ${available.map((a) => a.name).join(', ')}`);
      return found;
    });
  }
  const binary = binaryOutputs(request);
  const columns = tensorColumns(s, request.inputs);
  const rows = rowsFromColumns(sig, inputsByName(sig), columns, (name) => `input tensor ${JSON.stringify(name)} data`, 'inputs', s.passThrough);
  const predictions = await s.predict(rows);
  const { outputs, bytes } = encodeOutputs(
    wanted.map((o) => ({ name: o.name, datatype: DATATYPES[o.type], shape: [rows.length, o.shape[1]], data: outputColumn(predictions, o.name).flat() })),
    binary,
  );
  const body = {
    model_name: s.model,
    model_version: String(s.version),
    // Without an id of its own, the request is answered under its x-request-id (what :feedback takes).
    id: request.id ?? requestId,
    outputs,
  };
  // As /v1 writes them: OIP's JSON has no other way to carry NaN or ±Infinity in FP32 data.
  const nonFinite = hasNonFinite(predictions);
  if (bytes.length === 0) return { version: s.version, nonFinite, body };
  const header = Buffer.from(nonFinite ? stringifyTolerantJson(body) : JSON.stringify(body), 'utf8');
  return {
    version: s.version,
    contentType: 'application/octet-stream',
    headers: { [INFERENCE_HEADER]: String(header.length) },
    body: Buffer.concat([header, ...bytes]),
  };
}

export function oipRouter(registry: ModelRegistry): Router {
  return (path) => {
    if (path === '/v2') {
      return { method: 'GET', api: 'server_metadata', handle: async () => ({ body: { name: SERVER_NAME, version: RUNTIME_VERSION, extensions: ['binary_tensor_data'] } }) };
    }
    if (path === '/v2/health/live') return { method: 'GET', api: 'health', public: true, handle: async () => ({ body: { live: true } }) };
    if (path === '/v2/health/ready') {
      return {
        method: 'GET',
        api: 'health',
        public: true,
        handle: async () => {
          const ready = registry.isReady();
          return { status: ready ? 200 : 503, body: { ready } };
        },
      };
    }
    const m = MODEL_PATH.exec(path);
    if (!m) return undefined;
    const [, rawName, version, action] = m;
    const name = decodePathSegment(rawName);
    if (name === undefined) return undefined;
    const model = registry.get(name) ? name : undefined;
    if (action === 'infer') {
      return {
        method: 'POST',
        api: 'infer',
        model,
        parseBody: parseInferBody,
        handle: async (body, info: RequestInfo) => {
          served(registry, name).resolve(versionRequest(name, version)); // a 404 before reading the body
          const request = await body();
          // Routed only now: versions may have been swapped while the body arrived.
          return infer(served(registry, name).route(versionRequest(name, version), info), request, info.requestId);
        },
      } satisfies Route;
    }
    return {
      method: 'GET',
      api: action === 'ready' ? 'model_ready' : 'model_metadata',
      model,
      handle: async () => {
        const target = served(registry, name);
        const req = versionRequest(name, version);
        return action === 'ready' ? modelReady(target, req) : modelMetadata(target, target.resolve(req));
      },
    } satisfies Route;
  };
}
