// TF Serving's JSON with bare NaN / Infinity / -Infinity: the request body parser turns them into numbers,
// while the same words inside strings stay text and anything else that is not JSON still fails; the
// response writer writes non-finite numbers as those tokens instead of JSON.stringify's null.

import { parseTolerantJson, stringifyTolerantJson } from '../../../runtime/serving/tolerant-json';

test('bare NaN, Infinity and -Infinity outside strings become numbers', () => {
  expect(parseTolerantJson('{"a": NaN, "b": [Infinity, -Infinity, 1.5], "c": {"d": -Infinity}}')).toEqual({
    a: NaN,
    b: [Infinity, -Infinity, 1.5],
    c: { d: -Infinity },
  });
  expect(parseTolerantJson('[NaN,NaN]')).toEqual([NaN, NaN]);
});

test('the tokens inside strings, also after escaped quotes, are left alone', () => {
  expect(parseTolerantJson('{"NaN": "Infinity", "s": "a \\"NaN\\" -Infinity", "x": NaN}')).toEqual({ NaN: 'Infinity', s: 'a "NaN" -Infinity', x: NaN });
  expect(parseTolerantJson('["\\\\", NaN]')).toEqual(['\\', NaN]);
  expect(parseTolerantJson('{"Island": "Infinity Island"}')).toEqual({ Island: 'Infinity Island' });
});

test('plain JSON parses as JSON.parse does, and invalid JSON still throws', () => {
  const text = '{"instances": [{"a": 1, "b": "x", "c": null, "d": [true, false]}]}';
  expect(parseTolerantJson(text)).toEqual(JSON.parse(text));
  for (const bad of ['NaNa', '{"a": NaN,}', '[Infinityy]', '{"a": nan}', '{"a": +Infinity}', '{"a": "NaN}', '']) {
    expect(() => parseTolerantJson(bad)).toThrow(SyntaxError);
  }
});

test('non-finite numbers are written as the bare tokens, strings holding the words stay strings, and the text parses back', () => {
  const value = { predictions: [{ probabilities: [NaN, Infinity, -Infinity, 0.5], classes: ['NaN'] }], id: 'Infinity', missing: null };
  const text = stringifyTolerantJson(value);
  expect(text).toBe('{"predictions":[{"probabilities":[NaN,Infinity,-Infinity,0.5],"classes":["NaN"]}],"id":"Infinity","missing":null}');
  expect(parseTolerantJson(text)).toEqual(value);
  expect(stringifyTolerantJson({ a: [1, 'x'] })).toBe(JSON.stringify({ a: [1, 'x'] }));
});
