// Loading compiled pipelines for the workloads stacks (MLP_COMPILED_PIPELINES): the fixture loads for all three
// targets; a missing directory, invalid JSON or the wrong kind fail with the file name and the fix.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CompiledPipelinesError, loadCompiledPipelines } from '../../stacks/compiled-pipelines';
import { errorOf } from '../constructs/helpers';
import { COMPILED_DIR } from './helpers';

test('the fixture directory loads a WorkflowTemplate, a PipelineSpec and a DAG file', () => {
  const p = loadCompiledPipelines(COMPILED_DIR);
  expect(p.argo!.map((t) => [t.kind, t.metadata.name])).toEqual([['WorkflowTemplate', 'spine-demo']]);
  expect(p.kfp!.map((s) => [s.schemaVersion, s.pipelineInfo.name])).toEqual([['2.1.0', 'spine-demo']]);
  expect(p.airflow!.map((d) => d.fileName)).toEqual(['spine-demo.py']);
});

test('unusable input fails with the file and the fix', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-compiled-'));
  try {
    expect(errorOf(() => loadCompiledPipelines(path.join(dir, 'missing')))).toMatch(/^compiled pipelines directory .*missing does not exist; run `mlp compile/);
    fs.mkdirSync(path.join(dir, 'argo'));
    fs.writeFileSync(path.join(dir, 'argo', 'broken.json'), '{');
    expect(() => loadCompiledPipelines(dir)).toThrow(CompiledPipelinesError);
    expect(errorOf(() => loadCompiledPipelines(dir))).toMatch(/argo\/broken\.json: not valid JSON/);
    fs.writeFileSync(path.join(dir, 'argo', 'broken.json'), JSON.stringify({ apiVersion: 'argoproj.io/v1alpha1', kind: 'CronWorkflow' }));
    expect(errorOf(() => loadCompiledPipelines(dir))).toMatch(/argo\/broken\.json: kind is "CronWorkflow", expected "WorkflowTemplate"; compile it with `mlp compile <pipeline> --target argo` \(without --schedule\)\.$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
