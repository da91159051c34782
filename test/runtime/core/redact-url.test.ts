// How a URL is shown (CLI lines, the UI's /api/info, error messages): a password never reaches the output, and
// compilers can tell a URL that carries one.

import { redactUrl, urlHasPassword } from '../../../runtime/core/redact-url';

test.each([
  ['postgres://mlmd:s3cr:et@db.internal:5432/mlmd', 'postgres://mlmd:***@db.internal:5432/mlmd'],
  ['postgres://mluser:PASSWORD@10.0.0.5:5432/mlmd', 'postgres://mluser:***@10.0.0.5:5432/mlmd'],
  // An '@' or '/' in the password, encoded or not, still hides all of it.
  ['postgres://u:p@ss@db/mlmd', 'postgres://u:***@db/mlmd'],
  ['postgresql://u:p%2Fw@db/mlmd?sslmode=require', 'postgresql://u:***@db/mlmd?sslmode=require'],
  ['postgres://u:pa/ss@db/mlmd', 'postgres://u:***@db/mlmd'],
  // pg also takes the password as a query parameter.
  ['postgres://u@db/mlmd?password=hunter2&sslmode=require', 'postgres://u@db/mlmd?password=***&sslmode=require'],
  ['postgresql://mlmd@db/mlmd', 'postgresql://mlmd@db/mlmd'],
  ['postgres://mlp-runner%40my-project.iam@10.0.0.5:5432/mlmd', 'postgres://mlp-runner%40my-project.iam@10.0.0.5:5432/mlmd'],
  ['sqlite:/data/metadata.sqlite', 'sqlite:/data/metadata.sqlite'],
  ['gs://bucket/root', 'gs://bucket/root'],
])('%s is shown as %s', (url, shown) => {
  expect(redactUrl(url)).toBe(shown);
  expect(urlHasPassword(url)).toBe(shown !== url);
});
