// The metadata store the UI reads, opened once and shared by every request. The UI writes nothing, so a store
// is opened as a reader: an embedded SQLite file or a database schema that does not exist yet is not created
// (until a run creates it, requests see an empty in-memory store, and each request looks again), and an older
// schema is not upgraded (the open is refused; a pipeline run upgrades it).

import { NoMetadataStoreError, openMetadataStore } from '../metadata';
import type { MetadataStore } from '../metadata/types';

export class StoreAccess {
  /** The store at `address`, once it exists. */
  private opened?: MetadataStore;
  /** The empty stand-in answering while the store does not exist; kept until close, as requests may still hold it. */
  private standIn?: Promise<MetadataStore>;
  /** The look for the store in progress: concurrent requests share one. */
  private looking?: Promise<MetadataStore>;
  private closed = false;

  constructor(readonly address: string) {}

  /** Whether requests are answered by the empty stand-in because the store does not exist yet. */
  get waiting(): boolean {
    return this.opened === undefined && this.standIn !== undefined;
  }

  async get(): Promise<MetadataStore> {
    if (this.opened) return this.opened;
    this.looking ??= this.look().finally(() => (this.looking = undefined));
    return this.looking;
  }

  private async look(): Promise<MetadataStore> {
    let store: MetadataStore;
    try {
      store = await openMetadataStore(this.address, { mustExist: true });
    } catch (error) {
      if (!(error instanceof NoMetadataStoreError)) throw error;
      this.standIn ??= openMetadataStore('sqlite::memory:');
      return this.standIn;
    }
    // Closed while opening: the store must not outlive the server.
    if (this.closed) {
      await store.close();
      throw new Error('the UI server is closed');
    }
    this.opened = store;
    return store;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.looking?.catch(() => undefined);
    const { opened, standIn } = this;
    this.opened = this.standIn = undefined;
    await Promise.all([opened?.close(), standIn?.then((s) => s.close())]);
  }
}
