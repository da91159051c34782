// The ONNX test models, written by onnx-models.py with the test venv's Python (torch, onnx, scikit-learn,
// onnxruntime) into a temp folder, with onnxruntime's own predictions on given penguin rows: what the ONNX
// tests compare the served and evaluated predictions with (to 1e-5). No model file is committed.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { RawRow } from '../../../runtime/transform/apply';
import { testPython } from '../../support/python';
import { PENGUINS_FILE } from './helpers';

export const MEASUREMENTS = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];
export const SPECIES = ['Adelie', 'Chinstrap', 'Gentoo'];

export interface OnnxModels {
  /** A folder per model: tabular/, single/, regression/, each holding just model.onnx. */
  dirs: { tabular: string; single: string; regression: string };
  /** onnxruntime's (Python) outputs on `rows`, by model and output name. */
  expected: {
    tabular: { label: number[]; probabilities: number[][] };
    single: { probabilities: number[][] };
    regression: { variable: number[][] };
    /** The tabular model's accuracy on the complete penguins, by Python. */
    tabular_accuracy: number;
  };
}

/** Writes the models under `dir` and predicts `rows` (penguins with their four measurements) with them in Python. */
export function buildOnnxModels(dir: string, rows: RawRow[]): OnnxModels {
  const python = testPython(['torch', 'onnx', 'sklearn', 'onnxruntime']);
  fs.mkdirSync(dir, { recursive: true });
  const rowsFile = path.join(dir, 'rows.json');
  // DuckDB hands BIGINT columns (the body mass) over as bigint.
  fs.writeFileSync(rowsFile, JSON.stringify(rows, (_, v) => (typeof v === 'bigint' ? Number(v) : v)));
  execFileSync(python, [path.join(__dirname, 'onnx-models.py'), dir, PENGUINS_FILE, rowsFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const dirs = { tabular: '', single: '', regression: '' };
  for (const name of Object.keys(dirs) as (keyof typeof dirs)[]) {
    dirs[name] = path.join(dir, name);
    fs.mkdirSync(dirs[name]);
    fs.renameSync(path.join(dir, `${name}.onnx`), path.join(dirs[name], 'model.onnx'));
  }
  return { dirs, expected: JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) };
}

/** Every value of `actual` within `tolerance` of `expected` (same nesting). */
export function expectAllClose(actual: unknown, expected: unknown, tolerance = 1e-5): void {
  const flat = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flat) : [v]);
  const a = flat(actual);
  const e = flat(expected);
  expect(a).toHaveLength(e.length);
  const far = a.map((x, i) => [i, x, e[i]] as const).filter(([, x, y]) => typeof x !== 'number' || typeof y !== 'number' || !(Math.abs(x - y) <= tolerance));
  expect(far).toEqual([]);
}
