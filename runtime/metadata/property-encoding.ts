// How one property value is stored: the value columns MLMD keeps it in, or a one-line error saying why the
// store refuses it. The store encodes with it (sql.ts), and the launcher checks an executor's output
// properties with it before anything is published (checkOutputProperties), so the two cannot disagree.
import { UserError } from '../core/errors';
import { encodeProto, encodeStruct, ProtoValue } from './mlmd-values';
import { INTEGER_CUSTOM_PROPERTIES, PropertyType, type PropertyValue } from './types';

/** Values of int_value, double_value, string_value, bool_value, and proto_value (base64 text). */
export type ValueColumns = [int: number | null, double: number | null, text: string | null, bool: boolean | null, proto: string | null];

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `a ${typeof value}`;
}

const isStruct = (value: unknown): value is object => typeof value === 'object' && value !== null && !(value instanceof ProtoValue);

/**
 * Column values for one property; custom values pick their column from the JS type, numbers from the name
 * (see PropertyValue). Structs and protos are encoded as MLMD encodes them (mlmd-values.ts).
 */
export function encodeProperty(name: string, value: PropertyValue, declared: PropertyType | undefined, where: () => string): ValueColumns {
  const custom = declared === undefined || declared === PropertyType.UNKNOWN;
  const numberType = INTEGER_CUSTOM_PROPERTIES.has(name) ? PropertyType.INT : PropertyType.DOUBLE;
  const expected = !custom ? declared : typeof value === 'number' ? numberType : PropertyType.UNKNOWN;
  const fail = (): never => {
    const why = custom ? 'an integer custom property' : `declared ${PropertyType[expected]}`;
    throw new UserError(`${where()} is ${why}, got ${describeValue(value)}`);
  };
  switch (expected) {
    case PropertyType.INT:
      return Number.isInteger(value) ? [value as number, null, null, null, null] : fail();
    case PropertyType.DOUBLE:
      return typeof value === 'number' ? [null, value, null, null, null] : fail();
    case PropertyType.STRING:
      return typeof value === 'string' ? [null, null, value, null, null] : fail();
    case PropertyType.BOOLEAN:
      return typeof value === 'boolean' ? [null, null, null, value, null] : fail();
    case PropertyType.STRUCT:
      return isStruct(value) ? [null, null, encodeStruct(value, where), null, null] : fail();
    case PropertyType.PROTO:
      return value instanceof ProtoValue ? [null, null, null, null, encodeProto(value, where)] : fail();
  }
  if (typeof value === 'string') return [null, null, value, null, null];
  if (typeof value === 'boolean') return [null, null, null, value, null];
  if (value instanceof ProtoValue) return [null, null, null, null, encodeProto(value, where)];
  if (isStruct(value)) return [null, null, encodeStruct(value, where), null, null];
  throw new UserError(`${where()} has an unsupported value: ${describeValue(value)}`);
}

/**
 * Refuses output artifact properties the store would refuse when the publisher records them (a declared
 * property of the wrong type, a fraction in an integer property, a value no column holds), naming each by
 * `where`. Properties the type declares are checked as declared, others as custom ones; null means unset.
 */
export function checkOutputProperties(declared: Readonly<Record<string, PropertyType>>, properties: Record<string, unknown>, where: (name: string) => string): void {
  for (const [name, value] of Object.entries(properties)) {
    if (value !== null && value !== undefined) encodeProperty(name, value as PropertyValue, declared[name], () => where(name));
  }
}
