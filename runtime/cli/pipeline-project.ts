// The files `mlp init <dir>` writes: a pipeline project outside this repository that installs the runtime
// package, with a pipeline over a small CSV it carries (ExampleGen → StatisticsGen → SchemaGen →
// ExampleValidator → Transform → Trainer → Evaluator → Pusher) and a component of its own (defineComponent).

import { RUNTIME_PACKAGE } from '../core/version';

export interface ProjectOptions {
  /** The npm package and pipeline name (projectNameOf). */
  name: string;
  /** The dependency spec of the runtime package in package.json (a version range, or file:<tarball>). */
  runtimeSpec: string;
}

/** Default dependency spec: this runtime's version and later compatible ones. */
export function defaultRuntimeSpec(): string {
  return `^${RUNTIME_PACKAGE.version}`;
}

/** A folder name as the project's name: its npm package and pipeline name (lower case, digits, dashes, a letter first). */
export function projectNameOf(folder: string): string | undefined {
  return folder.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+|-+$/g, '') || undefined;
}

/** 300 rows: two numbers, a colour and a label that depends on them, so a small model learns it. */
function examplesCsv(): string {
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const rows = ['x1,x2,colour,label'];
  for (let i = 0; i < 300; i++) {
    const x1 = rnd();
    const x2 = rnd();
    const colour = ['red', 'green', 'blue'][i % 3];
    rows.push(`${x1.toFixed(4)},${x2.toFixed(4)},${colour},${x1 + x2 + (colour === 'red' ? 0.5 : 0) > 0 ? 1 : 0}`);
  }
  return `${rows.join('\n')}\n`;
}

function packageJson(opts: ProjectOptions): string {
  const pkg = {
    name: opts.name,
    version: '0.1.0',
    private: true,
    description: 'An ML pipeline on the mlp runtime',
    scripts: {
      start: 'mlp run ./pipeline.ts',
      typecheck: 'tsc -p .',
    },
    engines: { node: RUNTIME_PACKAGE.engines?.node },
    dependencies: {
      [RUNTIME_PACKAGE.name]: opts.runtimeSpec,
      zod: RUNTIME_PACKAGE.dependencies.zod,
    },
    // The compiler and Node types the runtime's own sources are checked with (the package ships them as TypeScript).
    devDependencies: { '@types/node': RUNTIME_PACKAGE.devDependencies['@types/node'], typescript: RUNTIME_PACKAGE.devDependencies.typescript },
    // better-sqlite3's install script builds the embedded metadata store. onnxruntime-node's only downloads its
    // CUDA provider from NuGet (the CPU binaries are in the package) and fails without that host: not run.
    allowScripts: { 'better-sqlite3': true, 'onnxruntime-node': false },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

const TSCONFIG = `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "preserve",
    "moduleResolution": "bundler",
    "types": ["node"],
    "strict": true,
    "esModuleInterop": true,
    "skipLibCheck": true,
    "noEmit": true
  },
  "include": ["*.ts", "components/**/*.ts"]
}
`;

function pipelineTs(opts: ProjectOptions): string {
  return `// ${opts.name}: ExampleGen → StatisticsGen → SchemaGen → ExampleValidator → Transform → Trainer → Evaluator →
// Pusher over data/examples.csv, and this project's own ReleaseNote component at the end.
//   npx mlp run ./pipeline.ts                      run it here (outputs and metadata under .mlp/)
//   npx mlp compile ./pipeline.ts --target argo …  the same pipeline as an Argo WorkflowTemplate

import * as path from 'path';
import { z } from 'zod';
import { Pipeline } from '${RUNTIME_PACKAGE.name}/pipelines';
import { Evaluator, ExampleGen, ExampleValidator, Pusher, SchemaGen, StatisticsGen, Trainer, Transform } from '${RUNTIME_PACKAGE.name}/components';
import { ReleaseNote } from './components/release-note';

// The pipeline root: .mlp here, or the bucket \`mlp compile --pipeline-root gs://…\` names.
const root = process.env.MLP_ROOT ?? '.mlp';
const remote = root.startsWith('gs://');

export const pipeline = new Pipeline({
  name: '${opts.name}',
  description: 'Binary label from two numbers and a colour',
  parameters: z.object({
    input_base: z.string().min(1).default(remote ? \`\${root}/data\` : path.join(__dirname, 'data')).describe('Folder holding examples.csv'),
    serving_dir: z.string().min(1).default(remote ? \`\${root}/serving/${opts.name}\` : path.resolve(root, 'serving', '${opts.name}')).describe('Model base path the Pusher writes versions into'),
  }),
});

const examples = pipeline.add('example-gen', ExampleGen, {
  parameters: { input_base: pipeline.param('input_base'), input_splits: [{ name: 'single_split', pattern: 'examples.csv' }] },
});
const statistics = pipeline.add('statistics-gen', StatisticsGen, { inputs: { examples: examples.outputs.examples } });
const schema = pipeline.add('schema-gen', SchemaGen, { inputs: { statistics: statistics.outputs.statistics } });
pipeline.add('example-validator', ExampleValidator, {
  inputs: { statistics: statistics.outputs.statistics, schema: schema.outputs.schema },
  parameters: { on_anomalies: 'warn' },
});
const transform = pipeline.add('transform', Transform, {
  inputs: { examples: examples.outputs.examples },
  parameters: { spec: [{ kind: 'z_score', feature: 'x1' }, { kind: 'z_score', feature: 'x2' }, { kind: 'vocabulary', feature: 'colour' }] },
});
const trainer = pipeline.add('trainer', Trainer, {
  inputs: { examples: examples.outputs.examples, transform_graph: transform.outputs.transform_graph, schema: schema.outputs.schema },
  parameters: {
    hyperparameters: { epochs: 20, batch_size: 16, learning_rate: 0.05, hidden_units: [8], dropout: 0 },
    custom_config: { label_key: 'label', task: 'binary' },
  },
});
const evaluator = pipeline.add('evaluator', Evaluator, {
  inputs: { examples: examples.outputs.examples, model: trainer.outputs.model },
  parameters: { eval_config: { label_key: 'label', task: 'binary', thresholds: { accuracy: { value_threshold: { lower_bound: 0.7 } } } } },
});
const pusher = pipeline.add('pusher', Pusher, {
  inputs: { model: trainer.outputs.model, model_blessing: evaluator.outputs.blessing },
  parameters: { push_destination: pipeline.param('serving_dir') },
});
pipeline.add('release-note', ReleaseNote, {
  inputs: { evaluation: evaluator.outputs.evaluation, pushed_model: pusher.outputs.pushed_model },
});

export default pipeline;
`;
}

function releaseNoteTs(opts: ProjectOptions): string {
  return `// ReleaseNote, a component of this project: the evaluation's headline metrics and where the model was pushed,
// as release-note.md. A component is typed ports + zod parameters + an executor; the runner runs it in a
// worker process like the bundled ones, and \`mlp compile\` turns it into a step of the compiled pipeline.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '${RUNTIME_PACKAGE.name}/component';
import { GenericArtifact, ModelEvaluation, PushedModel } from '${RUNTIME_PACKAGE.name}/artifact-types';

export const ReleaseNote = defineComponent({
  name: 'ReleaseNote',
  version: '1',
  description: 'Writes release-note.md: headline metrics and the pushed version.',
  inputs: { evaluation: { type: ModelEvaluation }, pushed_model: { type: PushedModel } },
  outputs: { note: { type: GenericArtifact } },
  parameters: z.object({ title: z.string().default('${opts.name}').describe('First line of the note') }),
  executor: async ({ inputs, outputs, parameters, log }) => {
    const metrics = inputs.evaluation[0].properties;
    const pushed = inputs.pushed_model[0].properties;
    const lines = [
      \`# \${parameters.title}\`,
      '',
      ...Object.entries(metrics).map(([k, v]) => \`- \${k}: \${v}\`),
      '',
      pushed.pushed === 1 ? \`Pushed as version \${pushed.pushed_version} to \${pushed.pushed_destination}.\` : 'Not pushed: the model was not blessed.',
    ];
    await fs.promises.writeFile(path.join(outputs.note.path, 'release-note.md'), \`\${lines.join('\\n')}\\n\`);
    outputs.note.properties = { pushed: pushed.pushed === 1 ? 1 : 0 };
    log(lines[lines.length - 1]);
  },
});
`;
}

function readme(opts: ProjectOptions): string {
  const pkg = RUNTIME_PACKAGE.name;
  return `# ${opts.name}

An ML pipeline on [${pkg}](https://www.npmjs.com/package/${pkg}), written by \`mlp init\`.

\`\`\`sh
npm install
npx mlp run ./pipeline.ts              # run it here: outputs and ML Metadata under .mlp/
npm run typecheck                      # tsc over the pipeline, its components and the runtime they import
npx mlp run ./pipeline.ts --explain    # again: every node is reused from the cache, and why
npx mlp runs                           # runs, newest first
npx mlp ui                             # http://127.0.0.1:8080: runs, DAGs, lineage, data health, evaluations
npx mlp serve --model-base-path .mlp/serving/${opts.name} --model-name ${opts.name}   # TF Serving REST on :8501
\`\`\`

- \`pipeline.ts\` wires ExampleGen → StatisticsGen → SchemaGen → ExampleValidator → Transform → Trainer →
  Evaluator → Pusher over \`data/examples.csv\` (label: \`label\`), then \`ReleaseNote\`.
- \`components/release-note.ts\` is a component of this project (\`defineComponent\`: typed ports, zod
  parameters, an executor). Add your own the same way and import them from the pipeline module.
- \`npx mlp --help\` lists every command; \`npx mlp run --help\` the run options.

## On Google Cloud

Upload the data next to the pipeline root, then compile for the orchestrator your platform runs
(Argo Workflows here; \`--target kfp\` for Vertex AI Pipelines, \`--target airflow\` for Cloud Composer):

\`\`\`sh
npx mlp data upload data gs://BUCKET/${opts.name}/data
npx mlp compile ./pipeline.ts --target argo --image REGION-docker.pkg.dev/PROJECT/REPO/runtime:TAG \\
  --pipeline-root gs://BUCKET/${opts.name} --out ${opts.name}.argo.yaml
\`\`\`

Every step runs \`mlp component run <Component>\` in the runtime image, which holds the bundled components
only: a step of this project's own components (ReleaseNote) needs an image that also carries this project.
`;
}

/** Relative path → contents of every file of a new project. */
export function projectFiles(opts: ProjectOptions): Record<string, string> {
  return {
    'package.json': packageJson(opts),
    'tsconfig.json': TSCONFIG,
    '.gitignore': 'node_modules/\n.mlp/\n',
    'README.md': readme(opts),
    'pipeline.ts': pipelineTs(opts),
    'components/release-note.ts': releaseNoteTs(opts),
    'data/examples.csv': examplesCsv(),
  };
}
