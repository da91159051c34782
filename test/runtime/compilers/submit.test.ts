// `mlp submit --target vertex --dry-run`: the Vertex AI PipelineJob create request (URL with the job id, the
// PipelineJob body `mlp compile --vertex-job` prints, with network, service account and GPU settings), printed
// without credentials or network; and the refusals, each in one line.

import { Command } from 'commander';
import { registerSubmitCommand, defaultJobId } from '../../../runtime/cli/commands/submit';
import { UserError } from '../../../runtime/core/errors';
import { compileCli } from './fixtures';

async function submit(...args: string[]): Promise<{ stdout: string; error?: Error }> {
  let stdout = '';
  const program = new Command('mlp').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: (t) => (stdout += t) });
  registerSubmitCommand(program, { stdout: { write: (t: string) => (stdout += t) } });
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: (t) => (stdout += t) });
  try {
    await program.parseAsync(['node', 'mlp', 'submit', ...args]);
    return { stdout };
  } catch (error) {
    return { stdout, error: error as Error };
  }
}

const BASE = ['--target', 'vertex', '--project', 'my-project', '--region', 'us-central1', '--image', 'img:1', '--pipeline-root', 'gs://b/root'];

describe('mlp submit --dry-run', () => {
  test('prints the pipelineJobs.create request: URL with the job id, and the same PipelineJob as compile --vertex-job', async () => {
    const { stdout, error } = await submit('spine-demo', ...BASE, '--param', 'count=5', '--job-id', 'spine-demo-1', '--dry-run');
    expect(error).toBeUndefined();
    const request = JSON.parse(stdout);
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://us-central1-aiplatform.googleapis.com/v1/projects/my-project/locations/us-central1/pipelineJobs?pipelineJobId=spine-demo-1');
    const compiled = await compileCli('spine-demo', '--target', 'kfp', '--vertex-job', '--image', 'img:1', '--pipeline-root', 'gs://b/root', '--param', 'count=5');
    expect(request.body).toEqual(JSON.parse(compiled.stdout));
  });

  test('flights with the metadata store, a GPU trainer on the GPU image, network and service account', async () => {
    const { stdout, error } = await submit(
      'flights', ...BASE, '--gpu-image', 'gpu:1', '--gpu', 'trainer=nvidia-l4', '--metadata-address', 'postgres://runner%40my-project.iam@10.0.0.3/mlmd',
      '--service-account', 'runner@my-project.iam.gserviceaccount.com', '--network', 'projects/1/global/networks/mlp', '--param', 'span=2', '--dry-run',
    );
    expect(error).toBeUndefined();
    const { url, body } = JSON.parse(stdout);
    expect(url).toMatch(/pipelineJobId=flights-\d{14}$/);
    expect(body).toMatchObject({ displayName: 'flights', serviceAccount: 'runner@my-project.iam.gserviceaccount.com', network: 'projects/1/global/networks/mlp', runtimeConfig: { gcsOutputDirectory: 'gs://b/root', parameterValues: { span: 2 } } });
    const trainer = body.pipelineSpec.deploymentSpec.executors['exec-trainer'].container;
    expect(trainer.image).toBe('gpu:1');
    expect(trainer.resources.accelerator).toMatchObject({ type: 'NVIDIA_L4', count: '1' });
    expect(body.pipelineSpec.deploymentSpec.executors['exec-warm-start-model'].container.command).toEqual(['mlp', 'component', 'run', 'mlp.Resolver', '--executor-input']);
  });

  test.each<[string[], string]>([
    [['spine-demo', ...BASE.map((a) => (a === 'vertex' ? 'argo' : a)), '--dry-run'], '--target must be one of vertex, got "argo" (for Argo, apply the output of `mlp compile --target argo` and submit it with argo or kubectl)'],
    [['spine-demo', ...BASE.map((a) => (a === 'my-project' ? 'My_Project' : a)), '--dry-run'], '--project must be a project id such as my-project, got "My_Project"'],
    [['spine-demo', ...BASE, '--job-id', 'Bad_Id', '--dry-run'], '--job-id must match [a-z][-a-z0-9]{0,127}, got "Bad_Id"'],
    [['flights', ...BASE, '--dry-run'], 'node previous-statistics is a resolver: it picks its artifact from the metadata store, so the steps need one (pass --metadata-address)'],
    [['spine-demo', ...BASE, '--param', 'nope=1', '--dry-run'], 'pipeline spine-demo has no parameter "nope" (parameters: count, factor)'],
    [
      ['flights', ...BASE, '--metadata-address', 'postgres://mluser@10.0.0.5:5432/mlmd', '--service-account', 'runner@my-project.iam.gserviceaccount.com', '--dry-run'],
      '--metadata-address logs in as "mluser", but the job runs as runner@my-project.iam.gserviceaccount.com, whose IAM database user is "runner@my-project.iam": log in as it (postgres://runner%40my-project.iam@...) or pass --metadata-password-secret',
    ],
    [
      ['flights', ...BASE, '--metadata-address', 'postgres://mluser:PASSWORD@10.0.0.5:5432/mlmd', '--dry-run'],
      "--metadata-address postgres://mluser:***@10.0.0.5:5432/mlmd has a password, which would be written into every step: leave it out and connect as the job's service account (Cloud SQL IAM database authentication, the default) or pass --metadata-password-secret projects/P/secrets/S/versions/V",
    ],
  ])('refuses %j in one line', async (args, message) => {
    const { error } = await submit(...args);
    expect(error).toEqual(new UserError(message));
  });

  test('default job ids are lower case, start with the pipeline name and carry the UTC time', () => {
    expect(defaultJobId('flights', new Date('2024-05-06T07:08:09Z'))).toBe('flights-20240506070809');
  });
});
