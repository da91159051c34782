// Reading and writing the demo components' data: numbers as JSON lines in a TFX-style split folder.

import * as fs from 'fs';
import * as path from 'path';
import { splitFolder } from '../../core/artifact-types';

export const DEMO_SPLIT = 'all';

export function numbersFile(artifactPath: string): string {
  return path.join(artifactPath, splitFolder(DEMO_SPLIT), 'numbers.jsonl');
}

export async function readNumbers(artifactPath: string): Promise<number[]> {
  const text = await fs.promises.readFile(numbersFile(artifactPath), 'utf8');
  return text.split('\n').filter(Boolean).map((l) => Number(JSON.parse(l).value));
}

export async function writeNumbers(artifactPath: string, values: number[]): Promise<void> {
  const file = numbersFile(artifactPath);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, values.map((value) => JSON.stringify({ value })).join('\n') + '\n');
}
