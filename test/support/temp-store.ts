// A fresh pipeline root with an embedded SQLite metadata store for each test, removed afterwards.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openMetadataStore } from '../../runtime/metadata';
import type { MetadataStore } from '../../runtime/metadata/types';

export interface TempStore {
  root: string;
  store: MetadataStore;
}

/** Registers beforeEach/afterEach hooks; read `.root` and `.store` inside tests. */
export function useTempStore(prefix: string): TempStore {
  const ctx = {} as TempStore;
  beforeEach(async () => {
    ctx.root = await fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
    ctx.store = await openMetadataStore(`sqlite:${path.join(ctx.root, 'metadata.sqlite')}`);
  });
  afterEach(async () => {
    await ctx.store.close();
    await fs.promises.rm(ctx.root, { recursive: true, force: true });
  });
  return ctx;
}
