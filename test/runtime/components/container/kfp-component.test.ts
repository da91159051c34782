// loadKfpComponent on the files the KFP SDK itself compiled (../shared/reference/kfp): each loads with its
// artifact types mapped onto ours, writes back out as the same KFP IR, and runs as a local process where its
// command can run here. Lightweight and containerized Python components run `python3 -m
// kfp.dsl.executor_main`, which KFP provides; the KFP SDK cannot be installed here, so these tests put a
// minimal stand-in for it on PYTHONPATH (test/fixtures/container/kfp-stand-in, README there).

import * as fs from 'fs';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import { parse as parseYaml } from 'yaml';
import { Examples, GenericArtifact, Model } from '../../../../runtime/core/artifact-types';
import { ARTIFACT_FILE_PROPERTY, containerComponent, kfpComponentIR, loadKfpComponent, loadKfpComponents } from '../../../../runtime/components/container';
import { Pipeline as PipelineDsl, type Pipeline } from '../../../../pipelines/dsl/pipeline';
import { compilePlan } from '../../../../runtime/compilers/common';
import { compileKfp } from '../../../../runtime/compilers/kfp';
import type { ArtifactType } from '../../../../runtime/core/artifact-types';
import { runPipeline } from '../../../../runtime/runner/local-runner';
import type { RunSummary } from '../../../../runtime/runner/run-types';
import * as fixtures from '../../../fixtures/container/kfp-pipelines';
import { useTempStore } from '../../../support/temp-store';

const MODULE = path.join(__dirname, '../../../fixtures/container/kfp-pipelines.ts');
const { KFP_REFERENCE, KFP_STAND_IN, CONTAINERIZED_DIR } = fixtures;
const t = useTempStore('mlp-kfp-component-');

jest.setTimeout(120_000);

const saved = { PATH: process.env.PATH, PYTHONPATH: process.env.PYTHONPATH, KFP_CONFIG_DIR: process.env.KFP_CONFIG_DIR };
beforeAll(() => {
  process.env.PATH = `${path.join(KFP_STAND_IN, 'bin')}${path.delimiter}${process.env.PATH}`;
  process.env.PYTHONPATH = KFP_STAND_IN;
  process.env.KFP_CONFIG_DIR = CONTAINERIZED_DIR;
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const run = (pipeline: Pipeline): Promise<RunSummary> =>
  runPipeline(pipeline, { root: t.root, store: t.store, modules: [MODULE], localExec: 'subprocess', parallelism: 1 });

function node(summary: RunSummary, id: string) {
  const n = summary.nodes.find((x) => x.id === id)!;
  return n;
}

async function outputsOf(summary: RunSummary, id: string): Promise<Record<string, unknown>> {
  const [execution] = await t.store.getExecutions({ ids: [node(summary, id).executionId!] });
  return execution.customProperties?.outputs as Record<string, unknown>;
}

/** A value of each KFP parameter type, for the compile round trip (the IR does not hold task arguments). */
const SAMPLE_VALUES: Record<string, unknown> = { STRING: 's', NUMBER_INTEGER: 1, NUMBER_DOUBLE: 0.5, BOOLEAN: true, LIST: ['a'], STRUCT: { a: 1 } };

/** A container component producing one artifact of `type`, to wire a loaded component's inputs. */
function producerOf(type: ArtifactType) {
  return containerComponent({ name: `test.kfp.Make${type.name}`, image: 'busybox', command: ['sh', '-c', 'mkdir -p "$0"', "{{$.outputs.artifacts['out'].path}}"], outputs: { out: { type } } });
}

const REFERENCE_FILES = fs.readdirSync(KFP_REFERENCE).filter((f) => f.endsWith('.yaml')).sort();

test('the reference folder holds the KFP SDK files these tests are about', () => {
  expect(REFERENCE_FILES).toEqual([
    'component_with_pip_install.yaml',
    'component_with_task_final_status_GH-12033.yaml',
    'container_io.yaml',
    'container_with_artifact_output.yaml',
    'container_with_concat_placeholder.yaml',
    'container_with_if_placeholder.yaml',
    'containerized_python_component.yaml',
    'lightweight_python_functions_pipeline.yaml',
    'two_step_pipeline_containerized.yaml',
  ]);
});

test.each(REFERENCE_FILES)('%s loads and writes back out as the KFP IR the SDK wrote', (name) => {
  const file = path.join(KFP_REFERENCE, name);
  const doc = parseYaml(fs.readFileSync(file, 'utf8'));
  const components = loadKfpComponents(file);
  const executorComponents = Object.keys(doc.components);
  expect(Object.keys(components).map((n) => `comp-${n}`).sort()).toEqual(executorComponents.sort());
  for (const [n, c] of Object.entries(components)) {
    const ir = kfpComponentIR(c);
    expect(ir.component).toEqual(doc.components[`comp-${n}`]);
    expect(ir.executor).toEqual(doc.deploymentSpec.executors[`exec-${n}`]);
    expect(isDeepStrictEqual(ir.executor, doc.deploymentSpec.executors[`exec-${n}`])).toBe(true);
  }
});

// Through our KFP compiler: a one-node pipeline of each loaded component (all but the exit handler's, whose
// TASK_FINAL_STATUS input only an exit task takes) compiles to the component and executor the SDK wrote.
test.each(REFERENCE_FILES.filter((f) => !f.includes('task_final_status')))('%s compiles back out through our KFP compiler', (name) => {
  const file = path.join(KFP_REFERENCE, name);
  const doc = parseYaml(fs.readFileSync(file, 'utf8'));
  for (const [n, c] of Object.entries(loadKfpComponents(file))) {
    const p = new PipelineDsl({ name: n });
    const given = Object.fromEntries(Object.keys(c.parameters.shape).map((k) => [k, SAMPLE_VALUES[doc.components[`comp-${n}`].inputDefinitions.parameters[k].parameterType]]));
    const producers = Object.fromEntries(Object.entries(c.inputs).map(([port, spec]) => [port, p.add(`make-${port.replace(/_/g, '-')}`, producerOf(spec.type)).outputs.out]));
    p.add(n, c, { parameters: given, inputs: producers });
    const spec = compileKfp(compilePlan(p, 'kfp'), { image: 'img:1' }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(spec.components[`comp-${n}`]).toEqual(doc.components[`comp-${n}`]);
    expect(spec.deploymentSpec.executors[`exec-${n}`]).toEqual(doc.deploymentSpec.executors[`exec-${n}`]);
  }
});

test('KFP artifact types map onto ours', () => {
  const file = path.join(KFP_REFERENCE, 'lightweight_python_functions_pipeline.yaml');
  const train = loadKfpComponent(file, 'train');
  expect(train.inputs.dataset_two.type).toBe(Examples);
  expect(train.outputs.model.type).toBe(Model);
  expect(loadKfpComponent(path.join(KFP_REFERENCE, 'container_with_artifact_output.yaml')).outputs.model.type).toBe(Model);
  expect(GenericArtifact.kfpSchemaTitle).toBe('system.Artifact');
});

test('a file with several components needs the name of one; an unknown name or type is refused naming it', () => {
  const file = path.join(KFP_REFERENCE, 'two_step_pipeline_containerized.yaml');
  expect(() => loadKfpComponent(file)).toThrow(`${file} holds 2 container components (component1, component2): name the one to load`);
  expect(() => loadKfpComponent(file, 'component3')).toThrow(`${file} has no container component "component3" (it has: component1, component2)`);
  const bad = path.join(t.root, 'html.yaml');
  fs.writeFileSync(bad, fs.readFileSync(file, 'utf8').replace('system.Dataset', 'system.HTML'));
  expect(() => loadKfpComponent(bad, 'component1')).toThrow(/html\.yaml: component comp-component1: output artifact "output_gcs": artifact type "system\.HTML" has no counterpart here \(supported: system\.Dataset, /);
  const notKfp = path.join(t.root, 'x.yaml');
  fs.writeFileSync(notKfp, 'name: x\n');
  expect(() => loadKfpComponent(notKfp)).toThrow(`${notKfp} is not a KFP v2 component file`);
});

test('container_io: a parameter placeholder and an output parameter file', async () => {
  const s = await run(fixtures.containerIo);
  expect(node(s, 'container-io')).toMatchObject({ state: 'executed' });
  // The stand-in my_program writes its other arguments (JSON) to --output_path.
  expect(await outputsOf(s, 'container-io')).toEqual({ output_path: JSON.stringify(['hello']) });
});

test('container_with_concat_placeholder: Concat joins into one argument; the artifact written as a file is published', async () => {
  const s = await run(fixtures.concat);
  const n = node(s, 'concat');
  expect(n).toMatchObject({ state: 'executed' });
  const [arg] = JSON.parse((await outputsOf(s, 'concat')).output_path as string);
  expect(arg).toMatch(/^prefix-hello\/.*\/text2$/);
  const uri = n.outputs.text2;
  expect(fs.existsSync(path.join(uri, '_MLP_COMMITTED.json'))).toBe(true);
  expect(fs.readFileSync(path.join(uri, 'text2'), 'utf8')).toBe(arg);
  const [artifact] = await t.store.getArtifacts({ uri });
  expect(artifact.customProperties?.[ARTIFACT_FILE_PROPERTY]).toBe('text2');
});

test('container_with_if_placeholder: IfPresent takes Then for a given (defaulted) input', async () => {
  const s = await run(fixtures.ifPlaceholder);
  expect(node(s, 'if-placeholder')).toMatchObject({ state: 'executed' });
  const args = JSON.parse((await outputsOf(s, 'if-placeholder')).output_path as string);
  expect(args[0]).toBe('default');
  expect(args[1]).toBe('--dataset');
  expect(args[2]).toMatch(/\/dataset$/);
});

test('two_step_pipeline_containerized: a file output artifact reaches the next step as that file', async () => {
  const s = await run(fixtures.twoStep);
  expect(s.nodes.map((n) => [n.id, n.state])).toEqual([['component1', 'executed'], ['component2', 'executed']]);
  expect(fs.readFileSync(path.join(node(s, 'component1').outputs.output_gcs, 'output_gcs'), 'utf8')).toBe('Hello KFP Containerized!\n');
  // component2 is `cat <input path>`: its stdout is in the node log.
  expect(fs.readFileSync(node(s, 'component2').logFile!, 'utf8')).toContain('Hello KFP Containerized!');
  const again = await run(fixtures.twoStep);
  expect(again.nodes.map((n) => n.state)).toEqual(['cached', 'cached']);
});

test('containerized_python_component: the returned value is the Output parameter (kfp_config.ini names the module)', async () => {
  const s = await run(fixtures.containerized);
  expect(node(s, 'containerized')).toMatchObject({ state: 'executed' });
  expect(await outputsOf(s, 'containerized')).toEqual({ Output: 'ab' });
});

test('lightweight_python_functions_pipeline: Input/Output artifacts, InputPath/OutputPath, typed output parameters, artifact metadata', async () => {
  const s = await run(fixtures.lightweight);
  expect(s.nodes.map((n) => [n.id, n.state, n.error])).toEqual([['preprocess', 'executed', undefined], ['train', 'executed', undefined]]);
  expect(await outputsOf(s, 'preprocess')).toEqual({
    output_parameter_path: 'hi',
    output_bool_parameter_path: true,
    output_dict_parameter_path: { A: 1, B: 2 },
    output_list_parameter_path: ['a', 'b', 'c'],
  });
  const model = node(s, 'train').outputs.model;
  expect(fs.readFileSync(path.join(model, 'model'), 'utf8')).toMatch(/^Step 0\ndataset_one_contents: hi \|\| dataset_two_contents: hi \|\| message: hi/);
  const [artifact] = await t.store.getArtifacts({ uri: model });
  expect(artifact.customProperties).toMatchObject({ accuracy: 0.9, [ARTIFACT_FILE_PROPERTY]: 'model' });
});

test('component_with_task_final_status: a TASK_FINAL_STATUS struct reaches the function', async () => {
  const s = await run(fixtures.exitComp);
  const n = node(s, 'exit-comp');
  expect(n).toMatchObject({ state: 'executed' });
  expect(fs.readFileSync(n.logFile!, 'utf8')).toContain("'state': 'SUCCEEDED'");
});

test('commands that cannot run here fail their node with the last stderr lines', async () => {
  // component_with_pip_install installs yapf from PyPI; the stand-in pip refuses (no index here).
  const pip = node(await run(fixtures.pipInstall), 'pip-install');
  expect(pip.state).toBe('failed');
  expect(pip.error).toMatch(/^container component component-with-pip-install: sh exited with code 1; last stderr lines: .*pip stand-in: cannot install yapf/);
  // container_with_artifact_output runs `sh run.sh`, a script its image holds and this machine does not.
  const missing = node(await run(fixtures.artifactOutput), 'artifact-output');
  expect(missing.state).toBe('failed');
  expect(missing.error).toMatch(/^container component container-with-artifact-output: sh exited with code \d+; last stderr lines: .*run\.sh/);
  expect(missing.error).not.toContain('\n');
});
