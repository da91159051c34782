// What a step receives after the kubelet's `$(VAR)` expansion of its compiled command line (k8s-args.ts): values
// with `$$`, `$(HOME)`, `$(MLP_SHARD)`, `$` and `$$(X)` arrive exactly as written on Argo, Airflow and KFP, while
// the references the compilers mean (`$(MLP_SHARD)` of Airflow's shard pods, `$(MLP_JOBSET_NAME)`) still expand.
// The expansion is the port of Kubernetes' expand.go (test/support/k8s-expansion.ts), checked here against cases
// from its upstream tests; Argo's and Jinja's run-time substitution are argo-substitution.ts and real Jinja2.
// Template text (`{{ ds }}`, `{{workflow.name}}`, `{% if %}`, `{#`, a lone `{{`) arrives as written too: Argo's
// passes and Airflow's Jinja leave literal text alone, or the compiler refuses it where Argo has no escape.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { Pipeline, when } from '../../../pipelines/dsl/pipeline';
import { ExampleGen, ImportSchemaGen, StatisticsGen } from '../../../runtime/components';
import { containerComponent } from '../../../runtime/components/container';
import { compileAirflow } from '../../../runtime/compilers/airflow';
import { compileArgo } from '../../../runtime/compilers/argo';
import { compilePlan } from '../../../runtime/compilers/common';
import { jinjaText, jsonWithoutTagStarts, k8sEnvRef, k8sLiteral, k8sTemplateText } from '../../../runtime/compilers/k8s-args';
import { compileKfp } from '../../../runtime/compilers/kfp';
import { Model } from '../../../runtime/core/artifact-types';
import { containerEnv, expand, mappingFuncFor } from '../../support/k8s-expansion';
import { argoSubstitute } from './argo-substitution';
import { renderJinja, RUN_DATE } from './jinja-render';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Text the kubelet would rewrite, and text around it. */
const DOLLARS = ['price$$', '$(HOME)', '$(MLP_SHARD)', '$', '$$(X)', 'a$b$$c$(d)$', '$$$(HOME)$', '$(', '${HOME}', 'plain'];
/** Text Argo's templating or Jinja would rewrite or fail on. */
const TEMPLATES = ['{{ ds }}', '{{workflow.name}}', 'a{{b}}c', '{% if true %}x{% endif %}', '{# note', '}}', '{{', '{{$(HOME)}}', '${{ ds }}$', "{{=sprig.trim(' x ')}}", '{{{x}}}', '{#x#}', '{%', 'a{', '{\\u007b'];
const VALUES = [...DOLLARS, ...TEMPLATES];
/** The pod's variables besides the step's own env: what a reference to them would turn into. */
const POD_ENV = { HOME: '/root', MLP_SHARD: '1/2', X: 'x-value', d: 'd-value' };
const ROOT = 'gs://b/r$$oot$(HOME)';
/** Argo refuses `{{` in the pipeline root (argoText); Airflow passes it on. */
const AIRFLOW_ROOT = `${ROOT}/{{ ds }}{%x`;
/** The pipeline parameter's default: Argo refuses `{{` there too. */
const ARGO_PREFIX = '$$(X)$(HOME)$';
const AIRFLOW_PREFIX = '$$(X){{ ds }}{% if %}$(HOME)$';

describe("the port of Kubernetes' expansion (expand.go)", () => {
  // Cases of kubernetes/kubernetes third_party/forked/golang/expansion/expand_test.go (doExpansionTest).
  const mapping = mappingFuncFor({ VAR_A: 'A', VAR_B: 'B', VAR_C: 'C', VAR_REF: '$(VAR_A)', VAR_EMPTY: '' });
  test.each([
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['$$(VAR_B)_$(VAR_A)', '$(VAR_B)_A'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
    ['$(VAR_A$(VAR_B))', '$(VAR_A$(VAR_B))'],
    ['$(VAR_REF)', '$(VAR_A)'],
    ['foo$(VAR_EMPTY)bar', 'foobar'],
    ['foo$(VAR_Awhoops!', 'foo$(VAR_Awhoops!'],
    ['$?_boo_$!', '$?_boo_$!'],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['$$$$$$$(VAR_A)', '$$$A'],
    ['$$$$$$$(GOOD_ODDS)', '$$$$(GOOD_ODDS)'],
    ['${VAR_A}', '${VAR_A}'],
    ['$(VAR_B)_______$(A', 'B_______$(A'],
    ['$(VAR_A)foobarzab$', 'Afoobarzab$'],
    ['--$($($($($--', '--$($($($($--'],
    ['$(foo$$var)', '$(foo$$var)'],
  ])('%s → %s', (input, expected) => {
    expect(expand(input, mapping)).toBe(expected);
  });

  test('env values expand against the variables defined before them, in order', () => {
    const env = containerEnv([{ name: 'A', value: 'a' }, { name: 'B', value: '$(A)-$(C)' }, { name: 'C', value: 'c' }], () => '');
    expect(env).toEqual({ A: 'a', B: 'a-$(C)', C: 'c' });
  });
});

describe('k8s-args', () => {
  const mapping = mappingFuncFor(POD_ENV);

  test('jsonWithoutTagStarts: JSON text parses to the same value and holds no tag start; jinjaText renders back (real Jinja2)', () => {
    const json = JSON.stringify({ values: VALUES, nested: [{ a: '{{' }, {}], '{%key': '{#' });
    const escaped = jsonWithoutTagStarts(json);
    expect(escaped).not.toMatch(/\{[{%#]/);
    expect(JSON.parse(escaped)).toEqual(JSON.parse(json));
    expect(renderJinja(VALUES.map(jinjaText), { params: {}, runId: 'r' })).toEqual(VALUES);
  });

  test('k8sLiteral: every value expands back to itself, also joined with other escaped pieces and a reference', () => {
    for (const v of VALUES) expect(expand(k8sLiteral(v), mapping)).toBe(v);
    // A piece ending in $ next to one starting with ( or next to a reference: pairs never cross pieces.
    expect(expand(`${k8sLiteral('a$')}${k8sLiteral('(HOME)')}/${k8sLiteral('$')}${k8sEnvRef('HOME')}`, mapping)).toBe('a$(HOME)/$/root');
  });

  test('k8sTemplateText: values expand back to themselves; text expansion leaves alone is not rewritten', () => {
    for (const v of VALUES) expect(expand(k8sTemplateText(v), mapping)).toBe(v);
    for (const v of ['$HOME "$@" $0', 'program_path=$(mktemp -d)', 'i=$((i + 1))', "{{$.inputs.parameters['x']}}", '{{$}}', '${a%%x}']) expect(k8sTemplateText(v)).toBe(v);
  });

  test('k8sEnvRef refuses what is not a variable name', () => {
    expect(k8sEnvRef('MLP_SHARD')).toBe('$(MLP_SHARD)');
    expect(() => k8sEnvRef('a b')).toThrow('k8sEnvRef: "a b" is not an environment variable name');
  });
});

/** One ImportSchemaGen per value, one taking the pipeline parameter, and a sharded StatisticsGen over an ExampleGen whose input_base is a value. */
function dollarPipeline(prefix: string): Pipeline {
  const p = new Pipeline({ name: 'dollars', parameters: z.object({ prefix: z.string().default(prefix), extra: z.object({ v: z.string() }).default({ v: 'p$$' }) }) });
  VALUES.forEach((v, i) => p.add(`literal-${i}`, ImportSchemaGen, { parameters: { schema_file: v } }));
  p.add('from-param', ImportSchemaGen, { parameters: { schema_file: p.param('prefix') } });
  const examples = p.add('examples', ExampleGen, { parameters: { input_base: 'gs://in/$$(MLP_SHARD)/{{ ds }}{{workflow.name}}', input_splits: [{ name: 'single_split', pattern: '{#x#}$(HOME)*' }] } });
  p.add('statistics', StatisticsGen, { inputs: { examples: examples.outputs.examples }, shards: 2 });
  return p;
}

/** The values each node must receive. */
const EXPECTED: Record<string, Json> = {
  ...Object.fromEntries(VALUES.map((v, i) => [`literal-${i}`, { schema_file: v }])),
  examples: { input_base: 'gs://in/$$(MLP_SHARD)/{{ ds }}{{workflow.name}}', input_splits: [{ name: 'single_split', pattern: '{#x#}$(HOME)*' }] },
};

describe('Argo: the pods receive the values as written', () => {
  const wf: Json = compileArgo(compilePlan(dollarPipeline(ARGO_PREFIX), 'argo'), { image: 'img:1', pipelineRoot: ROOT });
  const template = (name: string): Json => wf.spec.templates.find((t: Json) => t.name === name);
  const defaults = Object.fromEntries(wf.spec.arguments.parameters.map((p: Json) => [`workflow.parameters.${p.name}`, p.value]));

  /** A container's command line as its process gets it: Argo's substitution (env values too), then the kubelet's expansion with the pod's env. */
  const podArgv = (container: Json, vars: Record<string, string>): string[] => {
    const argo = (text: string) => argoSubstitute(text, { 'workflow.uid': 'uid-1', 'workflow.name': 'dollars-x1', ...vars });
    const env = containerEnv((container.env ?? []).map((e: Json) => ('value' in e ? { ...e, value: argo(e.value) } : e)), (name) => `<${name}>`, POD_ENV);
    return [...container.command, ...container.args].map((a: string) => expand(argo(a), mappingFuncFor(env)));
  };
  const executorInput = (name: string, vars: Record<string, string> = defaults): Json => {
    const argv = podArgv(template(name).container, vars);
    return JSON.parse(argv[argv.indexOf('--executor-input') + 1]);
  };

  test.each(Object.keys(EXPECTED))('%s: literal parameter values', (node) => {
    expect(executorInput(node).inputs.parameterValues).toEqual(EXPECTED[node]);
  });

  test('a pipeline parameter: its default, and a value given at submit time, which cannot be escaped when compiling', () => {
    expect(executorInput('from-param').inputs.parameterValues).toEqual({ schema_file: ARGO_PREFIX });
    for (const value of ['x$(MLP_SHARD)$$', ...TEMPLATES]) {
      expect(executorInput('from-param', { ...defaults, 'workflow.parameters.prefix': value }).inputs.parameterValues).toEqual({ schema_file: value });
    }
  });

  test('the pipeline root: output URIs, the shards folder and MLP_PIPELINE_ROOT', () => {
    expect(executorInput('literal-0').outputs.artifacts.schema.artifacts[0].uri).toBe(`${ROOT}/dollars/literal-0/schema/uid-1`);
    const shard = template('statistics-shard').container;
    // What the producer reported, as the DAG hands it to the fan-out and the fan-out to each shard: Argo templates an
    // input parameter's own value too (it is part of the template SubstituteParams substitutes), so none may hold a tag.
    const reported = JSON.stringify({ artifacts: { examples: { artifacts: [{ uri: 'gs://x$${{', metadata: { note: '$(HOME){{workflow.name}}' } }] } } });
    const fanOut = template('pipeline').dag.tasks.find((t: Json) => t.name === 'statistics-shards');
    const handedOn = argoSubstitute(fanOut.arguments.parameters.find((a: Json) => a.name === 'examples-executor-output').value, { 'tasks.examples.outputs.parameters.executor-output': reported });
    expect(argoSubstitute(handedOn, {})).toBe(handedOn);
    const argv = podArgv(shard, { 'inputs.parameters.shard': '1/2', 'inputs.parameters.examples-executor-output': handedOn });
    expect(argv[argv.indexOf('--shards-dir') + 1]).toBe(`${ROOT}/dollars/statistics/shards/uid-1`);
    // It reaches the dependent unchanged.
    expect(JSON.parse(argv[argv.indexOf('--executor-input') + 1]).inputs.artifacts.examples.artifacts[0]).toMatchObject({ uri: 'gs://x$${{', metadata: { note: '$(HOME){{workflow.name}}' } });
    expect(containerEnv(shard.env, () => '', POD_ENV).MLP_PIPELINE_ROOT).toBe(ROOT);
  });
});

describe('Argo: text outside the ExecutorInput holding "{{" is refused (Argo has no escape for it)', () => {
  const Echo = containerComponent({ name: 'Echo', image: 'us-docker.pkg.dev/p/ml/echo:1', command: ['echo'], env: { GREETING: 'hi {{ ds }}' } });

  test.each([
    ['the pipeline root', () => compileArgo(compilePlan(dollarPipeline(ARGO_PREFIX), 'argo'), { image: 'img:1', pipelineRoot: 'gs://b/{{workflow.name}}' }), 'the pipeline root "gs://b/{{workflow.name}}" holds "{{"'],
    ['a parameter default', () => compileArgo(compilePlan(dollarPipeline('{{ ds }}'), 'argo'), { image: 'img:1', pipelineRoot: ROOT }), 'the default of pipeline parameter prefix "{{ ds }}" holds "{{"'],
    [
      "a container component's env value",
      () => {
        const p = new Pipeline({ name: 'echo' });
        p.add('echo', Echo);
        return compileArgo(compilePlan(p, 'argo'), { image: 'img:1', pipelineRoot: ROOT });
      },
      'node echo: env GREETING "hi {{ ds }}" holds "{{"',
    ],
    [
      'a condition',
      () => {
        const p = dollarPipeline(ARGO_PREFIX);
        p.add('gated', ImportSchemaGen, { parameters: { schema_file: 's' }, condition: when(p.param('prefix'), '==', '{{workflow.name}}') });
        return compileArgo(compilePlan(p, 'argo'), { image: 'img:1', pipelineRoot: ROOT });
      },
      'the condition on pipeline parameter prefix "{{workflow.name}}" holds "{{"',
    ],
  ])('%s', (_, compile, message) => {
    expect(compile).toThrow(message);
  });
});

describe('Airflow: the pods receive the values as written; the shard item still comes from $(MLP_SHARD)', () => {
  let tasks: Json[];
  const params = { prefix: AIRFLOW_PREFIX, extra: { v: 'p$$' } };
  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-k8s-args-'));
    try {
      const file = path.join(dir, 'dollars.py');
      fs.writeFileSync(file, compileAirflow(compilePlan(dollarPipeline(AIRFLOW_PREFIX), 'airflow'), { image: 'img:1', pipelineRoot: AIRFLOW_ROOT, stepTimeoutSeconds: 60 }));
      tasks = JSON.parse(execFileSync('python3', [path.join(__dirname, 'airflow_stub.py'), file], { encoding: 'utf8' }))[0].tasks;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  const task = (id: string): Json => tasks.find((t) => t.kwargs.task_id === id)!;

  /** A task's env_vars as Jinja renders them (a templated field, unless mapped by expand: see sharded pods). */
  const renderedEnv = (t: Json): Record<string, string> => {
    const env = t.kwargs.env_vars as Record<string, string>;
    const values = renderJinja(Object.values(env), { params, runId: 'manual__1' });
    return Object.fromEntries(Object.keys(env).map((name, i) => [name, values[i]]));
  };
  /** A pod's command line as its process gets it: Jinja's rendering, then the kubelet's expansion with the pod's env. */
  const podArgv = (t: Json, env: Record<string, string>, xcom: Record<string, unknown> = {}, runParams: Json = params): string[] => {
    const rendered = renderJinja([...t.kwargs.cmds, ...t.kwargs.arguments], { params: runParams, runId: 'manual__1', xcom });
    const podEnv = containerEnv(Object.entries(env).map(([name, value]) => ({ name, value })), () => '', POD_ENV);
    return rendered.map((a) => expand(a, mappingFuncFor(podEnv)));
  };
  const executorInput = (argv: string[]): Json => JSON.parse(argv[argv.indexOf('--executor-input') + 1]);

  test.each(Object.keys(EXPECTED))('%s: literal parameter values', (node) => {
    const t = task(node);
    expect(executorInput(podArgv(t, renderedEnv(t))).inputs.parameterValues).toEqual(EXPECTED[node]);
  });

  test('a DAG param as the run gives it (Jinja renders it at run time) and the pipeline root', () => {
    const t = task('from-param');
    const env = renderedEnv(t);
    const input = executorInput(podArgv(t, env));
    expect(input.inputs.parameterValues).toEqual({ schema_file: AIRFLOW_PREFIX });
    expect(input.outputs.artifacts.schema.artifacts[0].uri).toBe(`${AIRFLOW_ROOT}/dollars/from-param/schema/manual__1`);
    expect(containerEnv(Object.entries(env).map(([name, value]) => ({ name, value })), () => '').MLP_PIPELINE_ROOT).toBe(AIRFLOW_ROOT);
    // A value given when the run is triggered is rendered into the arguments once, not rendered again.
    for (const value of ['{{ ds }}', '{% if %}', '{{']) expect(executorInput(podArgv(t, env, {}, { ...params, prefix: value })).inputs.parameterValues).toEqual({ schema_file: value });
  });

  test("a container component's env values reach its pod as written (env_vars is rendered)", () => {
    const Echo = containerComponent({ name: 'EchoJinja', image: 'us-docker.pkg.dev/p/ml/echo:1', command: ['echo'], env: { GREETING: 'hi {{ ds }}{% if %}{#$(HOME)' } });
    const p = new Pipeline({ name: 'echo' });
    p.add('echo', Echo);
    const dag = compileAirflow(compilePlan(p, 'airflow'), { image: 'img:1', pipelineRoot: ROOT, stepTimeoutSeconds: 60 });
    const env = JSON.parse(/env_vars=(\{.*\}),$/m.exec(dag)![1]) as Record<string, string>;
    const [rendered] = renderJinja([env.GREETING], { params: {}, runId: 'manual__1' });
    expect(containerEnv([{ name: 'GREETING', value: rendered }], () => '', POD_ENV).GREETING).toBe('hi {{ ds }}{% if %}{#$(HOME)');
    // Text Jinja does rewrite, shown here with the run's date: what the compiler must not let through.
    expect(renderJinja(['{{ ds }}'], { params: {}, runId: 'manual__1' })).toEqual([RUN_DATE]);
  });

  test('a shard pod: its item from $(MLP_SHARD) in its env, the shards folder and the producer\'s reported URI as written', () => {
    const shard = task('statistics-shard');
    // The mapped task's env for one item of the plan's XCom (the stub calls the compiled lambda with a sample item).
    const env = { ...shard.expand.env_vars.sample, MLP_SHARD: '2/2' };
    // What the producer reported through XCom: rendered into the arguments once, not rendered again.
    const argv = podArgv(shard, env, { examples: { artifacts: { examples: { artifacts: [{ uri: 'gs://x$${{', metadata: { note: '$(HOME){{ ds }}{%' } }] } } } });
    expect(argv[argv.indexOf('--shard') + 1]).toBe('2/2');
    expect(argv[argv.indexOf('--shards-dir') + 1]).toBe(`${AIRFLOW_ROOT}/dollars/statistics/shards/manual__1`);
    expect(executorInput(argv).inputs.artifacts.examples.artifacts[0]).toMatchObject({ uri: 'gs://x$${{', metadata: { note: '$(HOME){{ ds }}{%' } });
    // The expanded env is not rendered: only the kubelet's escape.
    expect(containerEnv([{ name: 'MLP_PIPELINE_ROOT', value: shard.expand.env_vars.sample.MLP_PIPELINE_ROOT }], () => '').MLP_PIPELINE_ROOT).toBe(AIRFLOW_ROOT);
  });
});

describe("KFP: a container component's command line and env reach its process as written", () => {
  const Shell = containerComponent({
    name: 'Shell',
    image: 'us-docker.pkg.dev/p/ml/shell:1',
    command: ['sh', '-c', 'echo "price$$ $(HOME) $$(X) $" > "$0"; x=$(mktemp -d)', "{{$.outputs.artifacts['model'].path}}"],
    args: ['--flag=$(MLP_SHARD)', "{{$.inputs.parameters['note']}}"],
    outputs: { model: { type: Model } },
    parameters: z.object({ note: z.string() }),
    env: { GREETING: 'hi$$ $(HOME)' },
  });

  test('the launcher container KFP builds (command and args after expansion, then placeholders) gets the component\'s text', () => {
    const p = new Pipeline({ name: 'shell' });
    p.add('shell', Shell, { parameters: { note: 'n' } });
    const spec: Json = compileKfp(compilePlan(p, 'kfp'), { image: 'img:1' });
    const container = spec.deploymentSpec.executors['exec-shell'].container;
    const env = containerEnv(container.env, () => '', POD_ENV);
    const expanded = [...container.command, ...container.args].map((a: string) => expand(a, mappingFuncFor(env)));
    expect(expanded).toEqual([...Shell.container.command, ...Shell.container.args]);
    expect(env.GREETING).toBe('hi$$ $(HOME)');
    // The shell's own $(mktemp -d) and "$0" are written as the component has them.
    expect(container.command[2]).toContain('x=$(mktemp -d)');
  });
});
