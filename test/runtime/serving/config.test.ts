// The model config file (TF Serving's ModelServerConfig as JSON) and version policies: which versions of
// those on disk are served, and clear errors naming the bad field of a wrong config.

import * as path from 'path';
import { parseModelServerConfig, versionsToServe } from '../../../runtime/serving/config';

const FILE = '/etc/mlp/models.json';

test('latest n, all and specific pick from the loadable versions, newest first', () => {
  expect(versionsToServe({ kind: 'latest', numVersions: 1 }, [3, 10, 7])).toEqual([10]);
  expect(versionsToServe({ kind: 'latest', numVersions: 2 }, [3, 10, 7])).toEqual([10, 7]);
  expect(versionsToServe({ kind: 'latest', numVersions: 5 }, [3])).toEqual([3]);
  expect(versionsToServe({ kind: 'all' }, [3, 10, 7])).toEqual([10, 7, 3]);
  expect(versionsToServe({ kind: 'specific', versions: [3, 4, 10] }, [3, 10, 7])).toEqual([10, 3]);
  expect(versionsToServe({ kind: 'latest', numVersions: 1 }, [])).toEqual([]);
});

test('a TF Serving model_config_list becomes model configs; relative base paths are read from the file\'s folder', () => {
  const models = parseModelServerConfig(
    {
      model_config_list: {
        config: [
          { name: 'penguins', base_path: 'serving/penguins', model_platform: 'tensorflow' },
          { name: 'two', base_path: '/models/two', model_version_policy: { latest: { num_versions: '2' } } },
          { name: 'every', base_path: '/models/every', model_version_policy: { all: {} } },
          { name: 'pinned', base_path: '/models/pinned', model_version_policy: { specific: { versions: [1, '2'] } }, version_labels: { stable: 1, canary: '2' } },
        ],
      },
    },
    FILE,
  );
  expect(models).toEqual([
    { name: 'penguins', basePath: path.resolve('/etc/mlp/serving/penguins'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
    { name: 'two', basePath: '/models/two', policy: { kind: 'latest', numVersions: 2 }, labels: {} },
    { name: 'every', basePath: '/models/every', policy: { kind: 'all' }, labels: {} },
    { name: 'pinned', basePath: '/models/pinned', policy: { kind: 'specific', versions: [1, 2] }, labels: { stable: 1, canary: 2 } },
  ]);
});

test('a wrong config is refused with the file and the bad field named', () => {
  const config = (entry: object) => ({ model_config_list: { config: [{ name: 'm', base_path: '/m', ...entry }] } });
  expect(() => parseModelServerConfig({}, FILE)).toThrow(`invalid model config ${FILE}: model_config_list:`);
  expect(() => parseModelServerConfig(config({ base_paths: '/x' }), FILE)).toThrow(/model_config_list\.config\.0: Unrecognized key: "base_paths"/);
  expect(() => parseModelServerConfig(config({ model_version_policy: { latest: { num_versions: 0 } } }), FILE)).toThrow(/model_version_policy/);
  expect(() => parseModelServerConfig(config({ version_labels: { stable: 'one' } }), FILE)).toThrow(/version_labels\.stable/);
  expect(() => parseModelServerConfig(config({ name: 'a/b' }), FILE)).toThrow(/a model name cannot contain/);
  const twice = { model_config_list: { config: [{ name: 'm', base_path: '/a' }, { name: 'm', base_path: '/b' }] } };
  expect(() => parseModelServerConfig(twice, FILE)).toThrow(`invalid model config ${FILE}: model "m" is configured twice`);
});
