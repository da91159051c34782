// storageFor's backend choice and the URI helpers every part of the runtime builds artifact URIs with.

import * as path from 'path';
import { UserError } from '../../../runtime/core/errors';
import { GcsStorage } from '../../../runtime/storage/gcs-storage';
import { LocalStorage, isGcsUri, joinUri, localPathOf, parseGcsUri, storageFor } from '../../../runtime/storage';

describe('storageFor', () => {
  test('chooses the backend by scheme and reuses instances', () => {
    expect(storageFor('/tmp/x')).toBeInstanceOf(LocalStorage);
    expect(storageFor('relative/dir')).toBe(storageFor('file:///tmp/y'));
    expect(storageFor('gs://bucket/a')).toBeInstanceOf(GcsStorage);
    expect(storageFor('gs://bucket/a')).toBe(storageFor('gs://other-bucket/b'));
    expect(storageFor('gs://bucket/a').handles('gs://bucket/a')).toBe(true);
    expect(storageFor('/tmp/x').handles('gs://bucket/a')).toBe(false);
  });

  test.each(['s3://bucket/key', 'http://example.com/a', 'HTTPS://example.com/a'])('rejects %s with a UserError naming it', (uri) => {
    expect(() => storageFor(uri)).toThrow(new UserError(`unsupported storage URI ${uri}: use a local path, file:// or gs://`));
  });
});

describe('URI helpers', () => {
  test('joinUri keeps the base style and normalises slashes', () => {
    expect(joinUri('gs://b', 'x', 'y.txt')).toBe('gs://b/x/y.txt');
    expect(joinUri('gs://b/root/', '/x/', 'y')).toBe('gs://b/root/x/y');
    expect(joinUri('file:///tmp/a/', 'b')).toBe('file:///tmp/a/b');
    expect(joinUri('file:///', 'b')).toBe('file:///b');
    expect(joinUri('/', 'b')).toBe('/b');
    expect(joinUri('rel', 'b/c')).toBe('rel/b/c');
    expect(joinUri('', 'b')).toBe('b');
    expect(joinUri('gs://b/a', '')).toBe('gs://b/a');
  });

  test('parseGcsUri splits bucket and object path', () => {
    expect(parseGcsUri('gs://my-bucket/a/b.txt')).toEqual({ bucket: 'my-bucket', path: 'a/b.txt' });
    expect(parseGcsUri('gs://my-bucket')).toEqual({ bucket: 'my-bucket', path: '' });
    expect(parseGcsUri('gs://my-bucket/')).toEqual({ bucket: 'my-bucket', path: '' });
    expect(() => parseGcsUri('gs:///a')).toThrow(new UserError('invalid bucket name "" in gs:///a'));
    expect(() => parseGcsUri('gs://Upper/a')).toThrow(UserError);
    expect(() => parseGcsUri('/local/path')).toThrow(new UserError('not a gs:// URI: /local/path'));
  });

  test('isGcsUri and localPathOf tell local from remote', () => {
    expect(isGcsUri('gs://b/x')).toBe(true);
    expect(isGcsUri('/gs/b')).toBe(false);
    expect(localPathOf('file:///tmp/a%20b')).toBe('/tmp/a b');
    expect(localPathOf('rel/x')).toBe(path.resolve('rel/x'));
    expect(localPathOf('gs://b/x')).toBeUndefined();
  });
});
