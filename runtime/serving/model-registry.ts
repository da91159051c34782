// Which versions of each served model are loaded. A model's base path holds <version>/ folders published by
// the Pusher; only those whose commit marker exists are considered (a version without it is still being
// written), and folders holding model.onnx (an ONNX model in Triton's and KServe's layout, which has no marker). The version policy picks the versions to serve; a new one is loaded in the background, warmed up
// with one prediction and only then answers requests, and versions the policy drops are unloaded after
// their queued requests are answered — so a push never fails a request. A version that fails to load is
// reported (state END with its error) and not retried: a committed version never changes. Older versions
// stay in service in its place. A gs:// base path is polled through the storage layer and each version is
// downloaded (whole, then renamed into place) to a local cache folder before loading.
//
// A request that names no version or label is routed: by the model's traffic policy when it has one (a
// weighted split or a bandit), else to the newest version; a static table answers the instances it holds.
// The version that answered each predict request is remembered by request id for :feedback, and sampled
// requests go to the request log.

import { randomUUID } from 'crypto';
import * as fsp from 'fs/promises';
import * as path from 'path';
import type { Logger } from 'pino';
import { UserError } from '../core/errors';
import { joinUri, localPathOf, storageFor } from '../storage';
import { servableVersions } from '../ml/model-location';
import { misplacedBasePath } from './base-path-mistakes';
import { loadServingBundle, predictRows, type Prediction, type ServingBundle } from '../ml/serving-bundle';
import { warmUpRow } from '../ml/onnx-model';
import type { Signature } from '../ml/signature';
import { rawRowProblem, type RawRow } from '../transform/apply';
import { Batcher, type BatchingOptions } from './batcher';
import { versionsToServe, type Arm, type ModelConfig } from './config';
import type { RequestInfo } from './http-server';
import type { ServerMetrics } from './metrics';
import type { Random } from './random';
import { badRequest, notFound } from './request-error';
import type { RequestLog } from './request-log';
import { ServedRequests } from './served-requests';
import { StaticTable } from './static-table';
import { TrafficRouter } from './traffic';

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
  /** Request fields that are not model inputs but are accepted and kept in the rows (the static table's key). */
  passThrough: ReadonlySet<string>;
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
  /** Traffic splits and bandits draw from it. */
  random: Random;
  requestLog?: RequestLog;
  /** Where versions of gs:// base paths are downloaded (<cacheDir>/<model>/<version>/). */
  cacheDir: string;
}

interface Loaded {
  servable: Servable;
  bundle: ServingBundle;
  batcher: Batcher<RawRow, Prediction>;
}

export class ServedModel {
  private readonly statuses = new Map<number, VersionStatus>();
  private readonly loaded = new Map<number, Loaded>();
  private readonly failed = new Set<number>();
  private readonly log: Logger;
  private readonly router?: TrafficRouter;
  private readonly served = new ServedRequests();
  private staticTable?: StaticTable;
  private readonly passThrough: ReadonlySet<string>;
  private draining = false;

  constructor(
    readonly config: ModelConfig,
    private readonly deps: RegistryDeps,
  ) {
    this.log = deps.logger.child({ model: config.name });
    if (config.traffic) this.router = new TrafficRouter(config.traffic, deps.random);
    this.passThrough = new Set(config.staticTable ? [config.staticTable.key] : []);
  }

  /** Loads the static table, when the config has one (before the first sync, so it answers from the start). */
  async loadStaticTable(): Promise<void> {
    if (!this.config.staticTable) return;
    this.staticTable = await StaticTable.load(this.config.staticTable);
    this.log.info({ path: this.config.staticTable.path, key: this.staticTable.key, rows: this.staticTable.size, skipped: this.staticTable.skipped }, 'static prediction table loaded');
  }

  get name(): string {
    return this.config.name;
  }

  /** Every version this server has known, newest first; while draining, the loaded ones are UNLOADING. */
  versionStatuses(): VersionStatus[] {
    const statuses = [...this.statuses.values()].sort((a, b) => b.version - a.version);
    return this.draining ? statuses.map((s) => (s.state === 'AVAILABLE' ? { ...s, state: 'UNLOADING' } : s)) : statuses;
  }

  /** Whether the model (or that version) answers and the server is not draining: what readiness checks report. */
  isReady(version?: number): boolean {
    return !this.draining && (version === undefined ? this.loaded.size > 0 : this.loaded.has(version));
  }

  /** From now on the model reports not ready, so load balancers send it no new requests; it still answers them. */
  drain(): void {
    this.draining = true;
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

  /**
   * The servable answering a predict request, wrapped so that its answers go through the static table (for
   * requests naming no version or label), are remembered for :feedback and are sampled into the request log.
   */
  route(req: VersionRequest, info: RequestInfo): Servable {
    const explicit = req.version !== undefined || req.label !== undefined;
    const chosen = explicit ? undefined : this.router?.choose((arm) => this.loadedVersion(arm), info.routingKey);
    const base = chosen ? this.loaded.get(chosen.version)!.servable : this.resolve(req);
    const table = explicit ? undefined : this.staticTable;
    const arm = chosen?.arm;
    // Not an async function and no spread of `base`: this runs for every predict request.
    const predict = (rows: RawRow[]): Promise<Prediction[]> =>
      (table ? this.predictWithTable(table, base, rows) : base.predict(rows)).then((predictions) => {
        this.served.remember(info.requestId, { version: base.version, arm });
        this.deps.requestLog?.record({ rows, predictions, version: base.version, requestId: info.requestId });
        return predictions;
      });
    return { model: base.model, version: base.version, signature: base.signature, passThrough: base.passThrough, predict };
  }

  private async predictWithTable(table: StaticTable, base: Servable, rows: RawRow[]): Promise<Prediction[]> {
    const answered = await table.predict(rows, base.predict);
    this.deps.metrics.staticHits.inc({ model: this.name }, answered.hits);
    this.deps.metrics.staticMisses.inc({ model: this.name }, rows.length - answered.hits);
    return answered.predictions;
  }

  /** Credits a reward in [0, 1] to the version (and traffic arm) that answered a request; 404 for an unknown request id. */
  feedback(requestId: string, reward: number): { version: number; arm?: string } {
    const served = this.served.take(requestId);
    if (!served) throw notFound(`model ${this.name} has no record of request id ${JSON.stringify(requestId)} (unknown, already rewarded, or too old)`);
    if (served.arm !== undefined) this.router?.reward(served.arm, reward);
    const labels = { model: this.name, version: String(served.version) };
    this.deps.metrics.feedback.inc(labels);
    this.deps.metrics.rewards.inc(labels, reward);
    this.log.info({ requestId, version: served.version, arm: served.arm, reward }, 'feedback');
    return served;
  }

  /** The batch queue of each loaded version, for the queue depth metrics. */
  queueDepths(): { version: number; batches: number; rows: number }[] {
    return [...this.loaded].map(([version, l]) => ({ version, ...l.batcher.depth() }));
  }

  /** The version an arm names (a label's version, loaded or not). */
  private armVersion(arm: Arm): number {
    return 'label' in arm ? this.config.labels[arm.label] : arm.version;
  }

  /** An arm's version when it is loaded. */
  private loadedVersion(arm: Arm): number | undefined {
    const version = this.armVersion(arm);
    return this.loaded.has(version) ? version : undefined;
  }

  /** Brings the loaded versions in line with the policy and the committed versions on disk. */
  async sync(): Promise<void> {
    const onDisk = await this.servableVersions();
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

  private async servableVersions(): Promise<number[]> {
    const base = this.config.basePath;
    try {
      return await servableVersions(base);
    } catch (err) {
      throw new UserError(`model ${this.name}: cannot list its base path ${base}: ${(err as Error).message}`);
    }
  }

  /** A local folder holding the version: itself for a local base path, else a cached download. */
  private async localVersion(version: number): Promise<string> {
    const uri = joinUri(this.config.basePath, String(version));
    const local = localPathOf(uri);
    if (local !== undefined) return local;
    const dir = this.cachedVersion(version);
    // A committed version never changes, so a complete copy from an earlier start is used as it is.
    if (await fsp.stat(dir).then(() => true, () => false)) return dir;
    const partial = `${dir}.partial-${randomUUID()}`;
    try {
      await storageFor(uri).downloadTree(uri, partial);
      await fsp.rename(partial, dir);
    } finally {
      await fsp.rm(partial, { recursive: true, force: true });
    }
    return dir;
  }

  private cachedVersion(version: number): string {
    return path.join(this.deps.cacheDir, encodeURIComponent(this.name), String(version));
  }

  private async load(version: number): Promise<void> {
    const dir = joinUri(this.config.basePath, String(version));
    const started = Date.now();
    this.statuses.set(version, { version, state: 'LOADING' });
    this.log.info({ version, dir }, 'loading model version');
    let bundle: ServingBundle | undefined;
    try {
      bundle = await loadServingBundle(await this.localVersion(version));
      // Warm-up: the first prediction compiles kernels and allocates; pay it here, not in a request.
      // A row of missing values takes the transform's fill values for every feature; an ONNX graph gets zeros.
      await predictRows(bundle, [bundle.framework === 'onnx' ? warmUpRow(bundle.model) : {}]);
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
    // A value the transform cannot read is this request's 400, checked before it shares a batch with others.
    const predict = (rows: RawRow[]): Promise<Prediction[]> => {
      const problem = b.graph && rawRowProblem(b.graph, rows);
      return problem ? Promise.reject(badRequest(problem)) : batcher.submit(rows);
    };
    const servable: Servable = { model: this.name, version, signature: b.signature, passThrough: this.passThrough, predict };
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
    if (localPathOf(this.config.basePath) === undefined) await fsp.rm(this.cachedVersion(version), { recursive: true, force: true });
    this.statuses.set(version, { version, state: 'END' });
    this.deps.metrics.modelEvent(this.name, version, 'unloaded');
    this.log.info({ version }, 'model version unloaded');
  }

  /** The versions, every label and the traffic policy's state now (undefined: no policy, the newest answers); for the serving status extension. */
  servingStatus() {
    return { versions: this.versionStatuses(), labels: { ...this.config.labels }, traffic: this.router?.status((arm) => this.armVersion(arm), (v) => this.loaded.has(v)) };
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

  /** Ready when every model has a version answering and the server is not draining. */
  isReady(): boolean {
    return !this.stopped && this.all().every((m) => m.isReady());
  }

  /** The start of a shutdown: every model reports not ready (and its versions UNLOADING) while requests are still answered. */
  drain(): void {
    for (const m of this.all()) m.drain();
  }

  /**
   * First load, before the server listens. A base path that cannot be read, or a model whose versions all
   * fail to load, is a UserError (the caller's setup is wrong); a base path with no committed version yet is
   * not (the server waits for the first push).
   */
  async start(): Promise<void> {
    try {
      for (const m of this.all()) {
        await m.loadStaticTable();
        await m.sync();
        const failures = m.versionStatuses().filter((s) => s.error);
        if (m.availableVersions().length === 0 && failures.length > 0) {
          throw new UserError(`model ${m.name}: no version could be loaded: ${failures.map((f) => `version ${f.version}: ${f.error}`).join('; ')}`);
        }
        if (m.availableVersions().length === 0 && failures.length === 0) {
          const mistake = await misplacedBasePath(m.config.basePath);
          if (mistake) throw new UserError(`model ${m.name}: ${mistake}`);
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
