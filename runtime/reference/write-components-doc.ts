// `npm run docs:components`: (re)writes docs/components.md from the bundled components' specs and schemas.

import * as fs from 'fs';
import * as path from 'path';
import { bundledComponentsMarkdown, COMPONENTS_DOC } from './components-markdown';

const file = path.resolve(__dirname, '..', '..', COMPONENTS_DOC);
fs.writeFileSync(file, bundledComponentsMarkdown());
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
