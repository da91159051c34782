// Struct and proto property values byte for byte as ML Metadata stores them. The expected bytes come from
// Python's google.protobuf (the test venv) — TFX's own encoding (json_format.ParseDict into a Struct, a
// non-object wrapped as {"__value__": v}), serialized deterministically, base64 behind MLMD's `mlmd-struct::`
// prefix — and are compared with what mlmd-values.ts (protobufjs) produces; and the other way round.
// Deterministic map order differs between protobuf runtimes only for a key that is a prefix of another:
// C++ (std::less, which we follow) writes "ab" before "abc", Python's upb the reverse. Values with such keys
// are checked by Python parsing our bytes instead.
import { execFileSync } from 'child_process';
import { UserError } from '../../../runtime/core/errors';
import { decodeProto, decodeStruct, encodeProto, encodeStruct, ProtoValue } from '../../../runtime/metadata/mlmd-values';
import { testPython } from '../../support/python';

const VALUES: object[] = [
  { layers: [64, 64], activation: 'relu', dropout: 0.25 },
  { nested: { deeper: { flag: true, off: false, none: null } }, empty: {}, list: [] },
  // Integer-like keys, which a JS object orders numerically ("9" before "10"), go out in byte order.
  { 'zeta': 1, 'alpha': -2.5, 'Ünïcode': 'naïve ☃', '10': 0, '9': 1e300 },
  ['train', 'eval'],
  [{ a: 1 }, [1, [2, [3]]], null, 'x'],
];
const PREFIX_KEYS: object[] = [{ abc: 1, ab: 2, '': 'empty key', a: { b: [true] } }];

const PYTHON_STRUCTS = `
import base64, json, sys
from google.protobuf import json_format, struct_pb2
for value in json.load(sys.stdin):
    if not isinstance(value, dict):
        value = {'__value__': value}
    s = struct_pb2.Struct()
    json_format.ParseDict(value, s)
    print('mlmd-struct::' + base64.b64encode(s.SerializeToString(deterministic=True)).decode())
`;

const PYTHON_PARSE = `
import base64, json, sys
from google.protobuf import json_format, struct_pb2
values = []
for text in json.load(sys.stdin):
    s = struct_pb2.Struct()
    s.ParseFromString(base64.b64decode(text[len('mlmd-struct::'):]))
    d = json_format.MessageToDict(s)
    values.append(d['__value__'] if '__value__' in d else d)
print(json.dumps(values))
`;

const PYTHON_ANY = `
import base64
from google.protobuf import any_pb2, wrappers_pb2
a = any_pb2.Any()
a.Pack(wrappers_pb2.StringValue(value='hello'))
print(a.type_url)
print(base64.b64encode(a.value).decode())
print(base64.b64encode(a.SerializeToString()).decode())
`;

const python = (script: string, input = ''): string[] =>
  execFileSync(testPython(['google.protobuf']), ['-c', script], { input, encoding: 'utf8' }).trim().split('\n');

const where = () => 'custom property "x" of artifact 1';

test('structs: protobufjs writes the bytes Python google.protobuf writes, and reads them back as the JSON values', () => {
  const fromPython = python(PYTHON_STRUCTS, JSON.stringify(VALUES));
  expect(fromPython).toHaveLength(VALUES.length);
  expect(VALUES.map((v) => encodeStruct(v, where))).toEqual(fromPython);
  expect(fromPython.map((s) => decodeStruct(s, where))).toEqual(VALUES);
});

test('structs: Python google.protobuf parses what protobufjs wrote, keys that prefix others included', () => {
  const ours = [...VALUES, ...PREFIX_KEYS].map((v) => encodeStruct(v, where));
  expect(JSON.parse(python(PYTHON_PARSE, JSON.stringify(ours))[0])).toEqual([...VALUES, ...PREFIX_KEYS]);
  // C++'s deterministic order: "" < "a" < "ab" < "abc".
  expect(Buffer.from(ours[VALUES.length].slice('mlmd-struct::'.length), 'base64').toString('latin1')).toMatch(/^\n.\n\x00.*\n.\n\x01a.*\n.\n\x02ab.*\n.\n\x03abc/s);
});

test('protos: the Any Python packs is read as its type URL and message bytes, and written back identically', () => {
  const [typeUrl, value, any] = python(PYTHON_ANY);
  const decoded = decodeProto(any, where);
  expect({ typeUrl: decoded.typeUrl, value: Buffer.from(decoded.value).toString('base64') }).toEqual({ typeUrl, value });
  expect(encodeProto(new ProtoValue(typeUrl, Buffer.from(value, 'base64')), where)).toBe(any);
  // PostgreSQL's BYTEA hands back the bytes of MLMD's base64 text.
  expect(decodeProto(Buffer.from(any, 'latin1'), where)).toEqual(decoded);
  expect(JSON.stringify(decoded)).toBe(JSON.stringify({ '@type': typeUrl, value }));
});

test('values a Struct cannot carry, and stored text that is no Struct or Any, are errors naming the property', () => {
  expect(() => encodeStruct({ when: new Date(0) }, where)).toThrow(new UserError('custom property "x" of artifact 1 holds a object, which a google.protobuf.Struct cannot carry'));
  expect(() => encodeStruct([1, undefined], where)).toThrow(/holds undefined/);
  // An object key whose value is undefined is absent, as in JSON.
  expect(decodeStruct(encodeStruct({ given: 1, missing: undefined }, where), where)).toEqual({ given: 1 });
  expect(() => decodeStruct('mlmd-struct::%%%', where)).toThrow(new UserError('custom property "x" of artifact 1 is not a valid serialized google.protobuf.Struct: not base64'));
  expect(() => decodeProto(Buffer.from([0x0a, 0x00]).toString('base64'), where)).toThrow(new UserError('custom property "x" of artifact 1 is a google.protobuf.Any without a type URL'));
  expect(() => encodeProto(new ProtoValue('', new Uint8Array()), where)).toThrow(/proto without a type URL/);
});
