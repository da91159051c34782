// The request body parser: TF Serving clients may send bare NaN / Infinity / -Infinity; those become numbers,
// while the same words inside strings stay text and anything else that is not JSON still fails.

import { parseTolerantJson } from '../../../runtime/serving/tolerant-json';

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
