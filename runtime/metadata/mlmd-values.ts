// Struct and proto property values exactly as ML Metadata stores them, so MLMD clients read ours and we read
// theirs: a struct is `mlmd-struct::` + base64 of a serialized google.protobuf.Struct in string_value
// (ml_metadata/util/struct_utils.cc), a proto is a serialized google.protobuf.Any, base64-encoded (MLMD's
// EncodeBytes on every backend), in proto_value. A JSON value that is not an object is wrapped as
// {"__value__": value}, as TFX's Artifact does for list and scalar JSON custom properties.
import * as protobuf from 'protobufjs';
import { UserError } from '../core/errors';

export const STRUCT_PREFIX = 'mlmd-struct::';
/** TFX's key for a JSON value that is not an object (tfx/types/artifact.py _JSON_SINGLE_VALUE_KEY). */
const SINGLE_VALUE_KEY = '__value__';

/** The google.protobuf definitions of one of protobufjs's bundled well-known-type files. */
function wellKnownDefinitions(file: string): Record<string, protobuf.AnyNestedObject> {
  type Bundled = { nested: { google: { nested: { protobuf: { nested: Record<string, protobuf.AnyNestedObject> } } } } };
  return (protobuf.common.get(file) as unknown as Bundled).nested.google.nested.protobuf.nested;
}

/** google.protobuf.Struct / Value / ListValue / Any, as struct.proto and any.proto define them. */
const wellKnown = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: { protobuf: { nested: { ...wellKnownDefinitions('google/protobuf/struct.proto'), ...wellKnownDefinitions('google/protobuf/any.proto') } } },
    },
  },
});
const StructType = wellKnown.lookupType('google.protobuf.Struct');
const AnyType = wellKnown.lookupType('google.protobuf.Any');

/**
 * The same Struct with its map written as what a map is on the wire, `repeated FieldsEntry { key = 1; value = 2 }`
 * (protobuf's map encoding), so entries go out in the order we choose: a JS object cannot hold keys in byte
 * order ("10" before "9"), which protobufjs would otherwise iterate.
 */
const orderedStruct = protobuf.Root.fromJSON({
  nested: {
    ordered: {
      nested: {
        ...wellKnownDefinitions('google/protobuf/struct.proto'),
        Struct: { fields: { fields: { rule: 'repeated', type: 'FieldsEntry', id: 1 } } },
        FieldsEntry: { fields: { key: { type: 'string', id: 1 }, value: { type: 'Value', id: 2 } } },
      },
    },
  },
}).lookupType('ordered.Struct');

/** A proto property (MLMD Value.proto_value): the Any's type URL and the serialized message. */
export class ProtoValue {
  constructor(
    readonly typeUrl: string,
    readonly value: Uint8Array,
  ) {}

  /** As proto3 JSON shows an Any whose type it cannot resolve: the type URL and the bytes in base64. */
  toJSON(): { '@type': string; value: string } {
    return { '@type': this.typeUrl, value: Buffer.from(this.value).toString('base64') };
  }
}

type JsonValue = null | number | string | boolean | JsonValue[] | { [k: string]: JsonValue };
interface ValueMessage {
  nullValue?: number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: StructMessage;
  listValue?: { values?: ValueMessage[] };
}
interface StructMessage {
  fields?: Record<string, ValueMessage>;
}
/** What orderedStruct encodes: the map's entries in order. */
interface OrderedStruct {
  fields: { key: string; value: OrderedValue }[];
}
type OrderedValue = Omit<ValueMessage, 'structValue' | 'listValue'> & { structValue?: OrderedStruct; listValue?: { values: OrderedValue[] } };

/**
 * Map entries in the order C++ protobuf's deterministic serialization writes them (std::less on the key
 * bytes), so one value always has one encoding.
 */
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function toValue(value: unknown, where: () => string): OrderedValue {
  if (value === null) return { nullValue: 0 };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map((v) => toValue(v, where)) } };
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return { structValue: toStruct(value as Record<string, unknown>, where) };
  throw new UserError(`${where()} holds ${value === undefined ? 'undefined' : `a ${typeof value}`}, which a google.protobuf.Struct cannot carry`);
}

/** A key whose value is undefined is absent, as in JSON (e.g. an optional parameter not given). */
function toStruct(object: Record<string, unknown>, where: () => string): OrderedStruct {
  const keys = Object.keys(object).filter((key) => object[key] !== undefined);
  return { fields: keys.sort(byUtf8).map((key) => ({ key, value: toValue(object[key], where) })) };
}

function fromValue(v: ValueMessage): JsonValue {
  if (v.structValue) return fromStruct(v.structValue);
  if (v.listValue) return (v.listValue.values ?? []).map(fromValue);
  if (v.numberValue !== undefined) return v.numberValue;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return null;
}

function fromStruct(s: StructMessage): { [k: string]: JsonValue } {
  return Object.fromEntries(Object.entries(s.fields ?? {}).map(([k, v]) => [k, fromValue(v)]));
}

/** A JSON value as MLMD's string_value for a struct: the prefix and base64 of the serialized Struct. */
export function encodeStruct(value: object, where: () => string): string {
  const object = Array.isArray(value) ? { [SINGLE_VALUE_KEY]: value } : (value as Record<string, unknown>);
  const bytes = orderedStruct.encode(orderedStruct.fromObject(toStruct(object, where))).finish();
  return STRUCT_PREFIX + Buffer.from(bytes).toString('base64');
}

export const isEncodedStruct = (text: string): boolean => text.startsWith(STRUCT_PREFIX);

/** An `mlmd-struct::` string back to its JSON value (unwrapping TFX's single-value key). */
export function decodeStruct(text: string, where: () => string): JsonValue {
  const base64 = text.slice(STRUCT_PREFIX.length);
  let decoded: { [k: string]: JsonValue };
  try {
    decoded = fromStruct(StructType.toObject(StructType.decode(strictBase64(base64)), { oneofs: false }) as StructMessage);
  } catch (error) {
    throw new UserError(`${where()} is not a valid serialized google.protobuf.Struct: ${(error as Error).message}`);
  }
  const keys = Object.keys(decoded);
  return keys.length === 1 && keys[0] === SINGLE_VALUE_KEY ? decoded[SINGLE_VALUE_KEY] : decoded;
}

/** The proto_value column's content for a proto property: base64 of the serialized Any. */
export function encodeProto(value: ProtoValue, where: () => string): string {
  if (!value.typeUrl) throw new UserError(`${where()} is a proto without a type URL`);
  return Buffer.from(AnyType.encode(AnyType.fromObject({ type_url: value.typeUrl, value: value.value })).finish()).toString('base64');
}

/**
 * proto_value back to a ProtoValue. SQLite hands back the base64 text MLMD wrote; PostgreSQL's BYTEA hands back
 * the bytes of that text. Like MLMD, an Any without a type URL is an error.
 */
export function decodeProto(stored: string | Uint8Array, where: () => string): ProtoValue {
  const text = typeof stored === 'string' ? stored : Buffer.from(stored).toString('latin1');
  let any: { type_url?: string; value?: Uint8Array };
  try {
    any = AnyType.toObject(AnyType.decode(strictBase64(text))) as typeof any;
  } catch (error) {
    throw new UserError(`${where()} is not a valid base64 serialized google.protobuf.Any: ${(error as Error).message}`);
  }
  if (!any.type_url) throw new UserError(`${where()} is a google.protobuf.Any without a type URL`);
  return new ProtoValue(any.type_url, new Uint8Array(any.value ?? []));
}

/** Base64 (padded or not, as absl's Base64Unescape takes it); anything else is an error, not silently dropped. */
function strictBase64(text: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) throw new Error('not base64');
  return Buffer.from(text, 'base64');
}
