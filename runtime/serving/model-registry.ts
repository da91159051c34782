// Which versions of each served model are loaded. A model's base path holds <version>/ folders published by
// the Pusher; only those whose commit marker exists are considered (a version without it is still being
// written). The version policy picks the versions to serve; a new one is loaded in the background, warmed up
// with one prediction and only then answers requests, and versions the policy drops are unloaded after
// their queued requests are answered — so a push never fails a request. A version that fails to load is
// reported (state END with its error) and not retried: a committed version never changes. Older versions
// stay in service in its place.

import * as fsp from 'fs/promises';
import * as path from 'path';
import type { Logger } from 'pino';
import { UserError } from '../core/errors';
import { storageFor } from '../storage';
import { loadServingBundle, predictRows, type Prediction, type ServingBundle } from '../ml/serving-bundle';
import type { Signature } from '../ml/signature';
import type { RawRow } from '../transform/apply';
import { Batcher, type BatchingOptions } from './batcher';
import { versionsToServe, type ModelConfig } from './config';
import type { ServerMetrics } from './metrics';
import { notFound } from './request-error';

/** TF Serving's servable states, as the status API reports them. */
export type VersionState = 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

export interface VersionStatus {
  version: number;
  state: VersionState;
  /** Why loading failed (state END). */
  error?: string;
}

/** A loaded model version that answers predictions (through its batch queue). */
export interface Servable {
  model: string;
  version: number;
  signature: Signature;
  predict(rows: RawRow[]): Promise<Prediction[]>;
}

/** How a request names a version: by number, by label, or neither (the newest available). */
export interface VersionRequest {
  version?: number;
  label?: string;
}

interface RegistryDeps {
  batching: BatchingOptions;
  metrics: ServerMetrics;
  logger: Logger;
}

interface Loaded {
  servable: Servable;
  bundle: ServingBundle;
  batcher: Batcher<RawRow, Prediction>;
}

/** A version folder's name: a plain integer (no leading zeros, so the name is the number written back). */
function isVersionName(name: string): boolean {
  return /^(0|[1-9]\d*)$/.test(name) && Number.isSafeInteger(Number(name));
}

export class ServedModel {
  private readonly statuses = new Map<number, VersionStatus>();
  private readonly loaded = new Map<number, Loaded>();
  private readonly failed = new Set<number>();
  private readonly log: Logger;

  constructor(
    readonly config: ModelConfig,
    private readonly deps: RegistryDeps,
  ) {
    this.log = deps.logger.child({ model: config.name });
  }

  get name(): string {
    return this.config.name;
  }

  /** Every version this server has known, newest first. */
  versionStatuses(): VersionStatus[] {
    return [...this.statuses.values()].sort((a, b) => b.version - a.version);
  }

  availableVersions(): number[] {
    return [...this.loaded.keys()].sort((a, b) => b - a);
  }

  /** The version a label names; 404 for an unknown label. */
  labelVersion(label: string): number {
    if (!Object.hasOwn(this.config.labels, label)) throw notFound(`model ${this.name} has no version label "${label}"`);
    return this.config.labels[label];
  }

  /** The servable answering a request; 404 (with TF Serving's wording) when that version is not loaded. */
  resolve(req: VersionRequest): Servable {
    const version = req.label !== undefined ? this.labelVersion(req.label) : req.version;
    if (version !== undefined) {
      const l = this.loaded.get(version);
      if (!l) throw notFound(`Servable not found for request: Specific(${this.name}, ${version})`);
      return l.servable;
    }
    const newest = this.availableVersions()[0];
    if (newest === undefined) throw notFound(`Servable not found for request: Latest(${this.name})`);
    return this.loaded.get(newest)!.servable;
  }

  /** Brings the loaded versions in line with the policy and the committed versions on disk. */
  async sync(): Promise<void> {
    const onDisk = await this.committedVersions();
    const loadable = () => onDisk.filter((v) => !this.failed.has(v));
    // Newest first, so the newest version answers as soon as possible.
    for (const v of versionsToServe(this.config.policy, loadable())) {
      if (!this.loaded.has(v)) await this.load(v);
    }
    // Computed again after loading: a version that failed leaves the ones it would have replaced in service.
    const keep = new Set(versionsToServe(this.config.policy, loadable()));
    for (const v of this.availableVersions()) {
      if (!keep.has(v)) await this.unload(v);
    }
  }

  async unloadAll(): Promise<void> {
    for (const v of this.availableVersions()) await this.unload(v);
  }

  private async committedVersions(): Promise<number[]> {
    const base = this.config.basePath;
    let names: string[];
    try {
      names = (await fsp.readdir(base, { withFileTypes: true })).filter((e) => e.isDirectory() && isVersionName(e.name)).map((e) => e.name);
    } catch (err) {
      throw new UserError(`model ${this.name}: cannot list its base path ${base}: ${(err as Error).message}`);
    }
    const storage = storageFor(base);
    const committed = await Promise.all(names.map(async (n) => ((await storage.readCommit(path.join(base, n))) ? Number(n) : undefined)));
    return committed.filter((v): v is number => v !== undefined);
  }

  private async load(version: number): Promise<void> {
    const dir = path.join(this.config.basePath, String(version));
    const started = Date.now();
    this.statuses.set(version, { version, state: 'LOADING' });
    this.log.info({ version, dir }, 'loading model version');
    let bundle: ServingBundle | undefined;
    try {
      bundle = await loadServingBundle(dir);
      // Warm-up: the first prediction compiles kernels and allocates; pay it here, not in a request.
      // A row of missing values takes the transform's fill values for every feature.
      predictRows(bundle, [{}]);
    } catch (err) {
      bundle?.model.dispose();
      const error = (err as Error).message;
      this.failed.add(version);
      this.statuses.set(version, { version, state: 'END', error });
      this.deps.metrics.modelEvent(this.name, version, 'load_failed');
      this.log.error({ version, dir, err: error }, 'model version failed to load');
      return;
    }
    const b = bundle;
    const batcher = new Batcher<RawRow, Prediction>(this.deps.batching, (rows) => predictRows(b, rows), `model ${this.name} version ${version}`, (size) =>
      this.deps.metrics.batchSize.observe({ model: this.name }, size),
    );
    const servable: Servable = { model: this.name, version, signature: b.signature, predict: (rows) => batcher.submit(rows) };
    this.loaded.set(version, { servable, bundle: b, batcher });
    this.statuses.set(version, { version, state: 'AVAILABLE' });
    this.deps.metrics.modelEvent(this.name, version, 'loaded');
    this.log.info({ version, dir, loadMs: Date.now() - started }, 'model version available');
  }

  private async unload(version: number): Promise<void> {
    const l = this.loaded.get(version)!;
    // Out of the map first: no new request reaches it; then the queued ones are answered before disposing.
    this.loaded.delete(version);
    this.statuses.set(version, { version, state: 'UNLOADING' });
    await l.batcher.close();
    l.bundle.model.dispose();
    this.statuses.set(version, { version, state: 'END' });
    this.deps.metrics.modelEvent(this.name, version, 'unloaded');
    this.log.info({ version }, 'model version unloaded');
  }
}

export class ModelRegistry {
  private readonly models: Map<string, ServedModel>;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private stopped = false;

  constructor(configs: ModelConfig[], private readonly deps: RegistryDeps) {
    this.models = new Map(configs.map((c) => [c.name, new ServedModel(c, deps)]));
  }

  get(name: string): ServedModel | undefined {
    return this.models.get(name);
  }

  all(): ServedModel[] {
    return [...this.models.values()];
  }

  /** Ready when every model has a version answering. */
  isReady(): boolean {
    return !this.stopped && this.all().every((m) => m.availableVersions().length > 0);
  }

  /**
   * First load, before the server listens. A base path that cannot be read, or a model whose versions all
   * fail to load, is a UserError (the caller's setup is wrong); a base path with no committed version yet is
   * not (the server waits for the first push).
   */
  async start(): Promise<void> {
    try {
      for (const m of this.all()) {
        await m.sync();
        const failures = m.versionStatuses().filter((s) => s.error);
        if (m.availableVersions().length === 0 && failures.length > 0) {
          throw new UserError(`model ${m.name}: no version could be loaded: ${failures.map((f) => `version ${f.version}: ${f.error}`).join('; ')}`);
        }
        if (m.availableVersions().length === 0) this.deps.logger.warn({ model: m.name, basePath: m.config.basePath }, 'no committed version yet; waiting for one');
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Looks for new and removed versions every `ms` (each model in turn; one look at a time). */
  startPolling(ms: number): void {
    const poll = () => {
      this.timer = setTimeout(() => {
        this.polling = this.pollOnce().finally(() => {
          this.polling = undefined;
          if (!this.stopped) poll();
        });
      }, ms);
    };
    poll();
  }

  private async pollOnce(): Promise<void> {
    for (const m of this.all()) {
      if (this.stopped) return;
      await m.sync().catch((err) => this.deps.logger.warn({ model: m.name, err: (err as Error).message }, 'looking for model versions failed'));
    }
  }

  /** Stops polling and unloads every version once its queued requests are answered. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    for (const m of this.all()) await m.unloadAll();
  }
}
