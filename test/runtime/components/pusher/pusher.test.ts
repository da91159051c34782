// Pusher: a blessed model lands in <destination>/<version>/ complete with a commit marker, versions only go
// up, and a model that is not blessed (or failed infra validation) is not pushed, with the reason recorded.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { launchComponent } from '../../../../runtime/core/launcher';
import { Pusher, PUSHED_FILE } from '../../../../runtime/components/pusher';
import { storageFor } from '../../../../runtime/storage';
import { committedVersions } from '../../../../runtime/ml/model-location';

let dir: string;
let model: string;
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-pusher-'));
  const src = path.join(dir, 'model-src');
  await fs.promises.mkdir(path.join(src, 'weights'), { recursive: true });
  await fs.promises.writeFile(path.join(src, 'model.json'), '{"format":"layers-model"}');
  await fs.promises.writeFile(path.join(src, 'weights', 'group1.bin'), Buffer.alloc(1024, 7));
  model = path.join(dir, 'model');
  await storageFor(model).publishDirectory(src, model);
});
afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

let n = 0;
async function blessing(blessed: number): Promise<string> {
  const src = await fs.promises.mkdtemp(path.join(dir, 'b-src-'));
  await fs.promises.writeFile(path.join(src, blessed ? 'BLESSED' : 'NOT_BLESSED'), '');
  const uri = path.join(dir, `blessing-${n++}`);
  await storageFor(uri).publishDirectory(src, uri);
  return uri;
}

async function push(dest: string, blessed: number, infra?: number) {
  const out = path.join(dir, `pushed-${n++}`);
  const artifacts: Record<string, { artifacts: { uri: string; metadata?: Record<string, unknown> }[] }> = {
    model: { artifacts: [{ uri: model }] },
    model_blessing: { artifacts: [{ uri: await blessing(blessed), metadata: { blessed } }] },
  };
  if (infra !== undefined) artifacts.infra_blessing = { artifacts: [{ uri: await blessing(infra), metadata: { blessed: infra } }] };
  const result = await launchComponent(Pusher, {
    inputs: { parameterValues: { push_destination: dest }, artifacts },
    outputs: { artifacts: { pushed_model: { artifacts: [{ uri: out }] } } },
  }, { log: () => undefined });
  return { metadata: result.artifacts!.pushed_model.artifacts[0].metadata!, record: JSON.parse(fs.readFileSync(path.join(out, PUSHED_FILE), 'utf8')) };
}

test('a blessed model is pushed to a new, higher version folder, complete and committed', async () => {
  const dest = path.join(dir, 'serving', 'penguins');
  const first = await push(dest, 1);
  // pushed_version is a string, as TFX's Pusher records it.
  expect(first.metadata).toMatchObject({ pushed: 1, pushed_version: expect.stringMatching(/^\d+$/) });
  const v1 = Number(first.metadata.pushed_version);
  expect(Math.abs(v1 - Date.now() / 1000)).toBeLessThan(60);
  const folder = path.join(dest, String(v1));
  expect(fs.readFileSync(path.join(folder, 'weights', 'group1.bin'))).toEqual(Buffer.alloc(1024, 7));
  expect(await storageFor(folder).readCommit(folder)).toMatchObject({ files: expect.arrayContaining([expect.objectContaining({ path: 'model.json' })]) });
  expect(first.record).toEqual({ pushed: true, destination: folder, version: v1 });

  // Pushed again within the same second: the version still goes up.
  const second = await push(dest, 1);
  expect(second.metadata.pushed_version).toBe(String(v1 + 1));
  expect(fs.readdirSync(dest).sort()).toEqual([String(v1), String(v1 + 1)]);
  // The input model is left as it was.
  expect(fs.existsSync(path.join(model, 'model.json'))).toBe(true);
});

test('without a blessing, or with a failed infra validation, nothing is pushed and the reason is recorded', async () => {
  const dest = path.join(dir, 'serving', 'm');
  const unblessed = await push(dest, 0);
  expect(unblessed.metadata).toMatchObject({ pushed: 0 });
  expect(unblessed.record.reasons).toEqual([`model ${model} is not blessed by the evaluator`]);
  const infraFailed = await push(dest, 1, 0);
  expect(infraFailed.record).toEqual({ pushed: false, reasons: [`model ${model} failed infra validation`] });
  expect(fs.existsSync(dest)).toBe(false);
  const infraOk = await push(dest, 1, 1);
  expect(infraOk.metadata.pushed).toBe(1);
});

test('a version folder without a commit marker (a killed push) is never served, and later pushes go past it', async () => {
  const dest = path.join(dir, 'serving', 'left');
  const abandoned = Math.floor(Date.now() / 1000) + 3600;
  fs.mkdirSync(path.join(dest, String(abandoned)), { recursive: true });
  fs.writeFileSync(path.join(dest, String(abandoned), 'model.json'), 'half');
  const pushed = await push(dest, 1);
  expect(pushed.metadata.pushed_version).toBe(String(abandoned + 1));
  expect(await committedVersions(dest)).toEqual([abandoned + 1]);
  expect(fs.readFileSync(path.join(dest, String(abandoned), 'model.json'), 'utf8')).toBe('half');
});
