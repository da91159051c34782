// Request values against a signature, for what the penguins model cannot show: a model with a single input
// takes bare values (TF Serving's row and columnar forms allow that), and the label column is ignored.

import type { Signature } from '../../../runtime/ml/signature';
import { inputsByName, rowFromObject, rowsFromColumns } from '../../../runtime/serving/request-rows';

const single: Signature = {
  format: 'mlp.signature',
  version: 1,
  task: 'regression',
  inputs: [{ name: 'text', dtype: 'string', required: true }],
  modelInputs: [{ name: 'text', dtype: 'int32', columns: ['text'], cardinality: 10 }],
  label: { key: 'score' },
  outputs: ['predictions'],
};
const inputs = inputsByName(single);

test('a single-input model takes a bare value per instance, as well as the named form', () => {
  expect(rowFromObject(single, inputs, 'hello', 'instances[0]')).toEqual({ text: 'hello' });
  expect(rowFromObject(single, inputs, { text: ['hello'], score: 3 }, 'instances[0]')).toEqual({ text: 'hello' });
  expect(() => rowFromObject(single, inputs, 5, 'instances[2]')).toThrow('instances[2]: "text" expects a string (or {"b64": ...}), got number 5');
  expect(() => rowFromObject(single, inputs, null, 'instances[1]')).toThrow('instances[1]: required field "text" is missing');
});

test('columns: one value per example, the label column ignored, missing values named by column and index', () => {
  const where = (n: string) => `inputs[${JSON.stringify(n)}]`;
  expect(rowsFromColumns(single, inputs, { text: ['a', { b64: 'Yg==' }], score: [1, 2] }, where, 'inputs')).toEqual([{ text: 'a' }, { text: 'b' }]);
  expect(() => rowsFromColumns(single, inputs, { text: ['a', null] }, where, 'inputs')).toThrow('inputs["text"][1]: required field "text" is missing');
  expect(() => rowsFromColumns(single, inputs, { score: [1] }, where, 'inputs')).toThrow('inputs holds none of the model\'s inputs ("text")');
  expect(() => rowsFromColumns(single, inputs, { text: [] }, where, 'inputs')).toThrow('inputs holds no examples');
});
