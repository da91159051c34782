// Compiled pipelines and submitted jobs never hold the metadata database password: every bundled pipeline
// compiled for every target (IAM login by default, or a secret reference) and `mlp submit --dry-run` are
// searched for it and for any URL with a password; an address with a password is refused in one line by
// `mlp compile` and `mlp submit`, with nothing printed or written.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BUNDLED_PIPELINES } from '../../../pipelines';
import { urlHasPassword } from '../../../runtime/core/redact-url';
import { runCli } from '../../support/cli';
import { compileCli } from './fixtures';

const PASSWORD = 'Pw-1b7f9c3e';
const WITH_PASSWORD = `postgres://mluser:${PASSWORD}@10.0.0.5:5432/mlmd`;
const COMMON = ['--image', 'img:1', '--pipeline-root', 'gs://b/root'];
const CLOUD_SQL = ['--cloudsql-instance', 'p:us-central1:mlmd', '--metadata-user', 'mlp-runner@p.iam'];
const KFP = ['--metadata-address', 'postgres://mlp-runner%40p.iam@10.0.0.5:5432/mlmd'];
const REFUSAL = /^--metadata-address postgres:\/\/mluser:\*\*\*@10\.0\.0\.5:5432\/mlmd has a password, which would be written into every step: .* --metadata-password-secret projects\/P\/secrets\/S\/versions\/V$/;

/** Every URL-looking string in a compiled output that carries a password. */
function urlsWithPasswords(text: string): string[] {
  return [...text.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s"',)\]]+/gi)].map((m) => m[0]).filter(urlHasPassword);
}

const VARIANTS: [target: string, args: string[]][] = [
  ['argo', ['--target', 'argo', ...CLOUD_SQL]],
  ['argo + secret', ['--target', 'argo', ...CLOUD_SQL, '--metadata-password-secret', 'mlmd-password:password']],
  ['kfp', ['--target', 'kfp', ...KFP]],
  ['kfp + secret', ['--target', 'kfp', ...KFP, '--metadata-password-secret', 'projects/p/secrets/mlmd/versions/1']],
  ['airflow', ['--target', 'airflow', ...CLOUD_SQL, '--gke-cluster', 'p/us-central1/gpu']],
  ['airflow + secret', ['--target', 'airflow', ...CLOUD_SQL, '--gke-cluster', 'p/us-central1/gpu', '--metadata-password-secret', 'mlmd-password:password']],
];

describe.each(Object.keys(BUNDLED_PIPELINES))('%s', (pipeline) => {
  test.each(VARIANTS)('compiled for %s: no password, no URL with one', async (_, args) => {
    const { stdout, error } = await compileCli(pipeline, ...COMMON, ...args);
    expect(error).toBeUndefined();
    expect(stdout).toContain('MLP_METADATA');
    expect(stdout).not.toContain(PASSWORD);
    expect(urlsWithPasswords(stdout)).toEqual([]);
  });

  test('kfp with a password in the address is refused in one line, printing nothing', async () => {
    const { stdout, error } = await compileCli(pipeline, ...COMMON, '--target', 'kfp', '--metadata-address', WITH_PASSWORD);
    expect(stdout).toBe('');
    expect(error?.message).toMatch(REFUSAL);
  });
});

test('the scan finds a URL with a password (the check is real)', () => {
  expect(urlsWithPasswords(`{"value": "${WITH_PASSWORD}"}`)).toEqual([WITH_PASSWORD]);
});

describe('the real mlp command', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-no-password-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const SUBMIT = ['submit', 'flights', '--target', 'vertex', '--project', 'my-project', '--region', 'us-central1', ...COMMON, '--dry-run'];

  test('submit --dry-run prints a request without the password (IAM login, or a Secret Manager reference)', async () => {
    for (const extra of [[], ['--metadata-password-secret', 'projects/p/secrets/mlmd/versions/1']]) {
      const r = await runCli([...SUBMIT, ...KFP, ...extra]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('MLP_METADATA_AUTH');
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
      expect(urlsWithPasswords(r.stdout)).toEqual([]);
    }
  });

  test('submit and compile --out refuse an address with a password in one line, masked, and write nothing', async () => {
    const submitted = await runCli([...SUBMIT, '--metadata-address', WITH_PASSWORD]);
    const out = path.join(dir, 'flights.json');
    const compiled = await runCli(['compile', 'flights', '--target', 'kfp', ...COMMON, '--metadata-address', WITH_PASSWORD, '--out', out]);
    for (const r of [submitted, compiled]) {
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim().replace(/^mlp: error: /, '')).toMatch(REFUSAL);
      expect(r.stderr).not.toContain(PASSWORD);
    }
    expect(fs.existsSync(out)).toBe(false);
  });
});
