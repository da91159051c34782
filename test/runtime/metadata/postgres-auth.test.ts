// How a step gets the metadata database password when its address has none (runtime/metadata/postgres-auth.ts),
// against a real PostgreSQL that checks passwords: PGPASSWORD (what a Kubernetes secretKeyRef sets), Cloud SQL
// IAM database authentication (an access token per connection) and a Secret Manager secret read once at start.
// No live Google Cloud is reachable here: the two Google calls (access token, secret access) are stand-ins that
// hand over the test server's password; everything from the password source to the server is real.

import { UserError } from '../../../runtime/core/errors';
import { metadataPassword, type GoogleTransport } from '../../../runtime/metadata/postgres-auth';
import { openPostgresStore } from '../../../runtime/metadata/postgres-store';
import { startPostgres, type StartedPostgres } from '../../support/postgres';

let server: StartedPostgres;
let password: string;
let bare: string;
beforeAll(async () => {
  server = await startPostgres();
  const url = new URL(server.url);
  password = decodeURIComponent(url.password);
  url.password = '';
  bare = url.toString();
});
afterAll(async () => {
  await server?.stop();
});

/** A stand-in for google-auth-library's HTTP side, recording the calls; `fail` makes every call fail as gaxios does. */
function google(fail?: { status: number; message: string }): (() => Promise<GoogleTransport>) & { tokens: number; urls: string[] } {
  const calls = Object.assign(async () => transport, { tokens: 0, urls: [] as string[] });
  const error = () => Object.assign(new Error('Request failed'), { response: { status: fail!.status, data: { error: { message: fail!.message } } } });
  const transport: GoogleTransport = {
    token: async () => {
      calls.tokens++;
      if (fail) throw error();
      return password;
    },
    get: async (url) => {
      calls.urls.push(url);
      if (fail) throw error();
      return { name: url, payload: { data: Buffer.from(password).toString('base64'), dataCrc32c: '1' } };
    },
  };
  return calls;
}

/** Opens the store and makes `n` connections busy at once, so the pool has to open that many. */
async function useConnections(url: string, passwordSource: (() => Promise<string>) | undefined, n: number): Promise<void> {
  const store = await openPostgresStore(url, { maxConnections: n, password: passwordSource });
  try {
    expect(await store.schemaVersion()).toBe(10);
    await Promise.all(Array.from({ length: n }, () => store.schemaVersion()));
  } finally {
    await store.close();
  }
}

test('without a password anywhere the server refuses, and the error shows no password', async () => {
  const before = process.env.PGPASSWORD;
  delete process.env.PGPASSWORD;
  try {
    await expect(openPostgresStore(bare)).rejects.toThrow(/^cannot connect to metadata store postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres: .*password/);
  } finally {
    if (before !== undefined) process.env.PGPASSWORD = before;
  }
});

test('PGPASSWORD (a Kubernetes secretKeyRef in Argo and Composer pods) is used for an address without a password', async () => {
  const before = process.env.PGPASSWORD;
  process.env.PGPASSWORD = password;
  try {
    await useConnections(bare, metadataPassword(bare, {}), 2);
  } finally {
    if (before === undefined) delete process.env.PGPASSWORD;
    else process.env.PGPASSWORD = before;
  }
});

test('gcp-iam: every new connection logs in with an access token', async () => {
  const g = google();
  await useConnections(bare, metadataPassword(bare, { MLP_METADATA_AUTH: 'gcp-iam' }, g), 3);
  expect(g.tokens).toBeGreaterThanOrEqual(3);
  expect(g.urls).toEqual([]);
});

test('secret-manager: the secret version is read once (versions.access, base64 payload), whatever the number of connections', async () => {
  const g = google();
  const version = 'projects/my-project/secrets/mlmd-password/versions/3';
  await useConnections(bare, metadataPassword(bare, { MLP_METADATA_AUTH: `secret-manager:${version}` }, g), 3);
  expect(g.urls).toEqual([`https://secretmanager.googleapis.com/v1/${version}:access`]);
  expect(g.tokens).toBe(0);
});

test.each([
  ['gcp-iam', /: cannot get an access token for Cloud SQL IAM database authentication \(HTTP 403\): Permission denied$/],
  ['secret-manager:projects/p/secrets/s/versions/1', /: cannot get Secret Manager projects\/p\/secrets\/s\/versions\/1 \(HTTP 403\): Permission denied$/],
])('%s: a refused Google call fails the open in one line naming what was asked', async (auth, message) => {
  const open = openPostgresStore(bare, { password: metadataPassword(bare, { MLP_METADATA_AUTH: auth }, google({ status: 403, message: 'Permission denied' })) });
  await expect(open).rejects.toThrow(UserError);
  await expect(open).rejects.toThrow(message);
});

test('MLP_METADATA_AUTH with PGPASSWORD set too is refused', () => {
  expect(() => metadataPassword('postgres://u@db/mlmd', { MLP_METADATA_AUTH: 'gcp-iam', PGPASSWORD: 'pw' }, google())).toThrow(
    new UserError('MLP_METADATA_AUTH=gcp-iam but PGPASSWORD is set too: unset one of them'),
  );
});

test.each([
  ['gcp-iam', 'postgres://u:pw@db/mlmd', 'MLP_METADATA_AUTH=gcp-iam but the metadata address has a password too: remove the password from the address'],
  ['secret-manager:my-secret', 'postgres://u@db/mlmd', 'MLP_METADATA_AUTH: "my-secret" is not a secret version such as projects/P/secrets/S/versions/latest'],
  ['password', 'postgres://u@db/mlmd', 'MLP_METADATA_AUTH must be gcp-iam or secret-manager:projects/P/secrets/S/versions/V, got "password"'],
])('MLP_METADATA_AUTH=%s with %s is refused', (auth, url, message) => {
  expect(() => metadataPassword(url, { MLP_METADATA_AUTH: auth }, google())).toThrow(new UserError(message));
});

test('unset MLP_METADATA_AUTH leaves the password to pg', () => {
  expect(metadataPassword('postgres://u:pw@db/mlmd', {})).toBeUndefined();
});
