// openMetadataStore's address forms and the errors a user gets for a bad address or an unusable path.
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UserError } from '../../../runtime/core/errors';
import { openMetadataStore, parseMetadataAddress } from '../../../runtime/metadata';

describe('metadata store addresses', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlp-mlmd-address-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['sqlite:runs/metadata.sqlite', { backend: 'sqlite', path: 'runs/metadata.sqlite' }],
    ['sqlite:/abs/mlmd', { backend: 'sqlite', path: '/abs/mlmd' }],
    ['sqlite:///abs/mlmd.db', { backend: 'sqlite', path: '/abs/mlmd.db' }],
    ['sqlite::memory:', { backend: 'sqlite', path: ':memory:' }],
    ['/root/pipeline/metadata.db', { backend: 'sqlite', path: '/root/pipeline/metadata.db' }],
    ['metadata.sqlite', { backend: 'sqlite', path: 'metadata.sqlite' }],
    ['postgres://u:p@db:5432/mlmd', { backend: 'postgres', url: 'postgres://u:p@db:5432/mlmd' }],
    ['postgresql://db/mlmd', { backend: 'postgres', url: 'postgresql://db/mlmd' }],
  ])('parses %s', (address, expected) => {
    expect(parseMetadataAddress(address)).toEqual(expected);
  });

  it.each(['mysql://db/mlmd', 'metadata.txt', 'sqlite:', 'gs://bucket/metadata.db', ''])('refuses %p naming the address', (address) => {
    expect(() => parseMetadataAddress(address)).toThrow(UserError);
    expect(() => parseMetadataAddress(address)).toThrow(`unknown metadata store address "${address}"`);
  });

  it('masks the password of an address it refuses', () => {
    expect(() => parseMetadataAddress('postgress://mluser:PASSWORD@db/mlmd')).toThrow(
      new UserError('unknown metadata store address "postgress://mluser:***@db/mlmd": use sqlite:PATH, a path ending in .sqlite or .db, or a postgres://user:password@host/db URL'),
    );
  });

  it('creates the folder of a new SQLite file', async () => {
    const file = path.join(dir, 'a', 'b', 'metadata.sqlite');
    const store = await openMetadataStore(file);
    expect(await store.schemaVersion()).toBe(10);
    await store.close();
    await expect(fs.stat(file)).resolves.toBeTruthy();
  });

  it('works in memory', async () => {
    const store = await openMetadataStore('sqlite::memory:');
    expect(store.backend).toBe('sqlite');
    expect(await store.countArtifacts()).toBe(0);
    await store.close();
  });

  it('names the path when the SQLite folder cannot be created', async () => {
    const blocker = path.join(dir, 'not-a-folder');
    await fs.writeFile(blocker, 'x');
    const file = path.join(blocker, 'sub', 'metadata.sqlite');
    await expect(openMetadataStore(`sqlite:${file}`)).rejects.toThrow(UserError);
    await expect(openMetadataStore(`sqlite:${file}`)).rejects.toThrow(`cannot open metadata store ${file}`);
  });

  it('names the path of a file that is not a SQLite database', async () => {
    const file = path.join(dir, 'notes.db');
    await fs.writeFile(file, 'these are not the tables you are looking for'.repeat(100));
    await expect(openMetadataStore(file)).rejects.toThrow(new UserError(`cannot open metadata store ${file}: file is not a database`));
  });

  it('names the server when PostgreSQL cannot be reached, without the password', async () => {
    const opening = openMetadataStore('postgres://mlp:secret@127.0.0.1:1/mlmd');
    await expect(opening).rejects.toThrow(UserError);
    await expect(opening).rejects.toThrow(/^cannot connect to metadata store postgres:\/\/mlp:\*\*\*@127\.0\.0\.1:1\/mlmd: /);
  });
});
