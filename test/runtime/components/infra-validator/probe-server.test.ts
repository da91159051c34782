// The InfraValidator's probe against a real HTTP server process that answers :predict with the bodies a
// broken model server could send: each failure names its cause (a NaN or Infinity prediction with the
// instance's missing inputs, invalid JSON, no "predictions" list, a count that does not match the instances
// sent, values of the wrong type, an HTTP error) instead of "HTTP 200 no predictions"; a single-output
// (regression) answer, given directly as TF Serving does, passes; failures past the fifth are counted.

import { spawn } from 'child_process';
import { probeServer, type ServerProcess } from '../../../../runtime/components/infra-validator/server-process';
import { SIGNATURE_FORMAT, SIGNATURE_VERSION, type Signature } from '../../../../runtime/ml/signature';

/** Answers :predict with answers[instances[0].case] ({status, body} as raw text); prints its URL when listening. */
const SERVER = `
const answers = JSON.parse(process.argv[1]);
require('http').createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const a = answers[JSON.parse(body).instances[0].case];
    res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
  });
}).listen(0, '127.0.0.1', function () { console.log('on http://127.0.0.1:' + this.address().port); });
`;

const GOOD = '{"probabilities":[0.1,0.2,0.7],"class_ids":[2],"classes":["Gentoo"]}';
const ANSWERS = [
  { status: 200, body: `{"predictions":[${GOOD}]}` },
  { status: 200, body: '{"predictions":[{"probabilities":[NaN,NaN,NaN],"class_ids":[-1],"classes":[""]}]}' },
  { status: 200, body: `{"predictions":[${GOOD}` },
  { status: 200, body: `{"outputs":[${GOOD}]}` },
  { status: 200, body: '{"predictions":[]}' },
  { status: 200, body: `{"predictions":[${GOOD},${GOOD}]}` },
  { status: 200, body: '{"predictions":[{"probabilities":["0.1",0.2,0.7],"class_ids":[2],"classes":["Gentoo"]}]}' },
  { status: 200, body: '{"predictions":[{"probabilities":[0.1,0.2,0.7],"classes":["Gentoo"]}]}' },
  { status: 500, body: '{"error":"model exploded"}' },
  { status: 502, body: '<html>bad gateway</html>' },
  { status: 200, body: '{"predictions":[[7.5]]}' },
  { status: 200, body: '{"predictions":[[Infinity]]}' },
];

function signature(task: 'multiclass' | 'regression'): Signature {
  return {
    format: SIGNATURE_FORMAT,
    version: SIGNATURE_VERSION,
    task,
    inputs: [
      { name: 'Island', dtype: 'string', required: true },
      { name: 'Beak Length (mm)', dtype: 'float', required: false },
    ],
    modelInputs: [],
    label: task === 'regression' ? { key: 'y' } : { key: 'Species', classes: ['Adelie', 'Chinstrap', 'Gentoo'] },
    outputs: task === 'regression' ? ['predictions'] : ['probabilities', 'class_ids', 'classes'],
  };
}

let server: ServerProcess;
beforeAll(async () => {
  const child = spawn(process.execPath, ['-e', SERVER, JSON.stringify(ANSWERS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`the test server exited with code ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  server = { child, url, loadMs: 0, stop: async () => void (child.kill(), await exited) };
});
afterAll(() => server.stop());

/** Rows asking for the given answers; "Beak Length (mm)" is missing from each. */
const rows = (...cases: number[]) => cases.map((c) => ({ case: c, Island: 'Biscoe', 'Beak Length (mm)': null }));

test('each broken answer is a failure naming its cause; a good answer is none', async () => {
  const probe = await probeServer(server, 'm', rows(0, 1, 2, 3, 4), signature('multiclass'));
  expect(probe.failures).toEqual([
    'request 2: prediction 0 "probabilities" is [NaN, NaN, NaN]: the model produced a non-finite value (NaN) for this instance; the instance has no value for "Beak Length (mm)"',
    expect.stringMatching(/^request 3: HTTP 200, response is not valid JSON \(.+\): "\{\\"predictions\\":\[\{\\"probabilities\\"/),
    'request 4: HTTP 200 without a "predictions" list: "predictions" is nothing',
    'request 5: 0 predictions for 1 instance sent',
  ]);
  expect(probe.rssMb).toBeGreaterThan(0);

  const more = await probeServer(server, 'm', rows(5, 6, 7, 8, 9, 0), signature('multiclass'));
  expect(more.failures).toEqual([
    'request 1: 2 predictions for 1 instance sent',
    'request 2: prediction 0 "probabilities" should hold float values, got string "0.1" at [0]',
    'request 3: prediction 0 lacks outputs class_ids',
    'request 4: HTTP 500 model exploded',
    expect.stringMatching(/^request 5: HTTP 502, response is not valid JSON \(.+\): "<html>bad gateway<\/html>"$/),
  ]);
});

test('a single output is given directly: a regression value passes, an infinite one is named', async () => {
  const probe = await probeServer(server, 'm', rows(10, 11), signature('regression'));
  expect(probe.failures).toEqual(['request 2: prediction 0 "predictions" is [Infinity]: the model produced a non-finite value (Infinity) for this instance; the instance has no value for "Beak Length (mm)"']);
});

test('failures past the fifth are counted, not dropped', async () => {
  const probe = await probeServer(server, 'm', rows(0, 1, 1, 1, 1, 1, 1, 1), signature('multiclass'));
  expect(probe.failures).toHaveLength(6);
  expect(probe.failures[4]).toMatch(/^request 6: prediction 0 "probabilities" is \[NaN, NaN, NaN\]/);
  expect(probe.failures[5]).toBe('2 more of the 8 requests failed');
});
