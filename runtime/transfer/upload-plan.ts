// What `mlp data upload` will copy: a local file, directory or glob expanded into files, each with the object
// it becomes under the gs:// destination prefix.
//
// Naming: a directory's files keep their paths relative to the directory (dir/a/b.csv → prefix/a/b.csv, as
// `gcloud storage rsync` lays them out, so reruns land on the same objects); a glob's files keep their paths
// relative to the glob's fixed leading folders (data/2024-*/x.csv → prefix/2024-01/x.csv); a single file
// becomes prefix/<file name>. Globs: `*` and `?` stay within one path segment, `**` spans folders, `[abc]`
// is a character class.

import { promises as fsp } from 'fs';
import * as path from 'path';
import { UserError } from '../core/errors';
import { walkFiles } from '../storage/common';
import { joinUri, parseGcsUri } from '../storage/uri';

export interface UploadItem {
  /** Absolute local path. */
  abs: string;
  /** '/'-separated path relative to the source root, also the object name below the destination prefix. */
  rel: string;
  /** Size when planned (the uploader re-measures while hashing). */
  size: number;
  /** gs://bucket/prefix/rel */
  uri: string;
}

export interface UploadPlan {
  source: string;
  destination: string;
  items: UploadItem[];
  totalBytes: number;
}

const GLOB_CHAR = /[*?[]/;

export async function planUpload(source: string, destination: string): Promise<UploadPlan> {
  parseGcsUri(destination); // a UserError for anything that is not gs://bucket[/prefix]
  const files = GLOB_CHAR.test(source) ? await globFiles(source) : await pathFiles(source);
  if (files.length === 0) throw new UserError(`nothing to upload: ${source} matches no files`);
  const items = files.map((f) => ({ ...f, uri: joinUri(destination, f.rel) }));
  return { source, destination, items, totalBytes: items.reduce((n, f) => n + f.size, 0) };
}

async function pathFiles(source: string): Promise<Omit<UploadItem, 'uri'>[]> {
  const abs = path.resolve(source);
  const stat = await fsp.stat(abs).catch(() => undefined);
  if (!stat) throw new UserError(`cannot upload ${source}: no such file or directory`);
  if (stat.isDirectory()) return walkFiles(abs);
  if (stat.isFile()) return [{ abs, rel: path.basename(abs), size: stat.size }];
  throw new UserError(`cannot upload ${source}: not a regular file or directory`);
}

async function globFiles(pattern: string): Promise<Omit<UploadItem, 'uri'>[]> {
  const segments = path.resolve(pattern).split(path.sep);
  const firstGlob = segments.findIndex((s) => GLOB_CHAR.test(s));
  const base = segments.slice(0, firstGlob).join(path.sep) || path.sep;
  const matcher = globToRegExp(segments.slice(firstGlob).join('/'));
  const stat = await fsp.stat(base).catch(() => undefined);
  if (!stat?.isDirectory()) throw new UserError(`nothing to upload: ${pattern} matches no files (${base} is not a directory)`);
  return (await walkFiles(base)).filter((f) => matcher.test(f.rel));
}

/** A '/'-separated glob as an anchored regular expression over '/'-separated relative paths. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // "**/" matches zero or more whole folders; a trailing "**" matches everything below.
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:[^/]*/)*' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) throw new UserError(`invalid glob ${glob}: "[" without "]"`);
      const body = glob.slice(i + 1, end);
      re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
