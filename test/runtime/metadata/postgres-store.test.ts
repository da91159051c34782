// Runs the metadata store suite on a real PostgreSQL server started for this file. Each test gets its own
// schema (search_path in the URL): as isolated as a database per test, and ~10x cheaper to create.
import { Client } from 'pg';
import { startPostgres, StartedPostgres } from '../../support/postgres';
import { describeStoreSuite, SuiteBackend } from './store.suite';

let server: StartedPostgres;
let n = 0;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});


async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const postgres: SuiteBackend = {
  dialect: 'postgres',
  freshAddress: async () => {
    const schema = `store_${++n}`;
    await withClient(server.url, (client) => client.query(`CREATE SCHEMA ${schema}`));
    return `${server.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  },
  exec: async (address, script) => {
    await withClient(address, (client) => client.query(script));
  },
  query: (address, sql) => withClient(address, async (client) => (await client.query(sql)).rows),
  where: (address) => address.replace(/:[^:@/]*@/, ':***@'),
};

describeStoreSuite('postgres', () => postgres);
