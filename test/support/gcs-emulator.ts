// Test helper: a real GCS JSON API on loopback — firebase-tools' Storage emulator started in-process (its CLI
// needs Java and a rules jar we cannot download; the storage API itself is plain Node).

import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { honourPreconditions, type GenerationSource } from './gcs-preconditions';
import { freeLoopbackPort } from './ports';

// firebase-tools ships no type declarations; these are the few members used here.
interface StorageEmulatorInstance {
  _rulesRuntime: RulesPart;
  _rulesManager: RulesPart;
  _app: http.RequestListener;
  destroyServer: () => Promise<void>;
  adminStorageLayer: GenerationSource;
  getInfo(): { host: string; port: number };
}
interface RulesPart {
  start(...args: unknown[]): Promise<void>;
  stop(): Promise<void>;
}
type StorageEmulatorClass = new (args: {
  projectId: string;
  host: string;
  port: number;
  rules: unknown[];
  auto_download: boolean;
}) => StorageEmulatorInstance;
interface Registry {
  start(instance: StorageEmulatorInstance): Promise<void>;
  stop(name: string): Promise<void>;
}

export interface GcsEmulator {
  /** Base URL for `apiEndpoint` / STORAGE_EMULATOR_HOST, e.g. http://127.0.0.1:PORT. */
  host: string;
  /** Where the emulator keeps object bytes (tests use it to corrupt data at rest). */
  blobDir: string;
  stop(): Promise<void>;
}

/** Starts the emulator on a free loopback port, its blobs in a fresh temp dir removed again by stop(). */
export async function startGcsEmulator(): Promise<GcsEmulator> {
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'gcs-emulator-'));
  const { StorageEmulator } = require('firebase-tools/lib/emulator/storage') as { StorageEmulator: StorageEmulatorClass };
  const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry') as { EmulatorRegistry: Registry };

  const port = await freeLoopbackPort();
  const blobDir = path.join(tmp, 'blobs');
  // The emulator keeps blobs under os.tmpdir(); TMPDIR cannot steer that inside jest (the sandbox's process.env
  // is a copy), so the folder is overridden where the emulator asks for it.
  const Emulator = class extends StorageEmulator {
    getPersistenceTmpDir(): string {
      return blobDir;
    }

    // StorageEmulator.start() of 15.34.2, serving through honourPreconditions (the emulator ignores
    // ifGenerationMatch, which GCS honours and publishing relies on).
    async start(): Promise<void> {
      const { createApp } = require('firebase-tools/lib/emulator/storage/server') as { createApp(projectId: string, emulator: unknown): Promise<http.RequestListener> };
      const { createDestroyer } = require('firebase-tools/lib/utils') as { createDestroyer(server: http.Server): () => Promise<void> };
      const info = this.getInfo();
      this._app = await createApp('demo-mlp', this);
      this.destroyServer = createDestroyer(http.createServer(honourPreconditions(this._app, this.adminStorageLayer)).listen(info.port, info.host));
    }
  };
  const emulator = new Emulator({ projectId: 'demo-mlp', host: '127.0.0.1', port, rules: [], auto_download: false });
  // The security-rules runtime is a Java process; admin (unauthenticated emulator) requests never consult it.
  for (const part of [emulator._rulesRuntime, emulator._rulesManager]) {
    part.start = async () => undefined;
    part.stop = async () => undefined;
  }
  await EmulatorRegistry.start(emulator);
  return {
    host: `http://127.0.0.1:${port}`,
    blobDir,
    async stop() {
      await EmulatorRegistry.stop('storage');
      await fs.promises.rm(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * Points STORAGE_EMULATOR_HOST at the emulator, for the storage layer in this process and in the child
 * processes that inherit the environment (executors, CLI commands); returns what puts the variable back.
 */
export function pointStorageAt(emulator: GcsEmulator): () => void {
  const saved = process.env.STORAGE_EMULATOR_HOST;
  process.env.STORAGE_EMULATOR_HOST = emulator.host;
  return () => {
    if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
    else process.env.STORAGE_EMULATOR_HOST = saved;
  };
}

/**
 * For the enclosing describe block (or file): an emulator started before its tests with the storage layer
 * pointed at it (pointStorageAt), put back and stopped after them.
 */
export function useGcsEmulator(): void {
  let emulator: GcsEmulator | undefined;
  let restore: (() => void) | undefined;
  beforeAll(async () => {
    emulator = await startGcsEmulator();
    restore = pointStorageAt(emulator);
  });
  afterAll(async () => {
    restore?.();
    await emulator?.stop();
  });
}
