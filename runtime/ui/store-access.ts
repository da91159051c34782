// The metadata store the UI reads, opened once and shared by every request. The UI writes nothing, so an
// embedded SQLite file that does not exist yet is not created: until a run creates it, requests see an
// empty in-memory store, and the file is opened by the first request after it appears.

import * as fs from 'fs';
import { openMetadataStore, parseMetadataAddress } from '../metadata';
import type { MetadataStore } from '../metadata/types';

export class StoreAccess {
  private opened?: Promise<MetadataStore>;
  /** The SQLite file being waited for, while the empty stand-in answers. */
  private awaited?: string;

  constructor(readonly address: string) {
    const parsed = parseMetadataAddress(address);
    if (parsed.backend === 'sqlite' && parsed.path !== ':memory:' && !fs.existsSync(parsed.path)) this.awaited = parsed.path;
  }

  /** Whether the store is the empty stand-in for a SQLite file that does not exist yet. */
  get waiting(): boolean {
    return this.awaited !== undefined;
  }

  async get(): Promise<MetadataStore> {
    if (this.awaited !== undefined && fs.existsSync(this.awaited)) {
      const standIn = this.opened;
      this.awaited = undefined;
      this.opened = openMetadataStore(this.address);
      await standIn?.then((s) => s.close());
    }
    this.opened ??= openMetadataStore(this.awaited !== undefined ? 'sqlite::memory:' : this.address);
    return this.opened;
  }

  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    await opened?.then((s) => s.close());
  }
}
