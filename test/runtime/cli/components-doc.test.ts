// docs/components.md is generated (npm run docs:components) from the components' specs and parameter
// schemas; this fails when a component changed and the committed file was not regenerated.

import * as fs from 'fs';
import * as path from 'path';
import { bundledComponentsMarkdown, COMPONENTS_DOC } from '../../../runtime/reference/components-markdown';
import { REPO_ROOT } from '../../support/cli';

test('docs/components.md is what npm run docs:components writes', () => {
  const committed = fs.readFileSync(path.join(REPO_ROOT, COMPONENTS_DOC), 'utf8');
  const generated = bundledComponentsMarkdown();
  if (committed !== generated) {
    const a = committed.split('\n');
    const b = generated.split('\n');
    const line = a.findIndex((l, i) => l !== b[i]);
    throw new Error(`${COMPONENTS_DOC} is out of date from line ${line + 1} (committed: ${JSON.stringify(a[line])}, generated: ${JSON.stringify(b[line])}): run npm run docs:components`);
  }
});

test('the document covers every bundled component with its ports and parameters', () => {
  const doc = bundledComponentsMarkdown();
  expect(doc).toMatch(/^## ExampleGen$/m);
  expect(doc).toContain('| `input_base` | `string` | required | Folder the input patterns are relative to');
  // Text that Markdown would read as an HTML tag is escaped.
  expect(doc).toContain('Split-&lt;name&gt;/part-*.parquet');
  expect(doc).toContain('| `format` | `"auto" \\| "csv" \\| "jsonl" \\| "parquet"` | `"auto"` |');
});
