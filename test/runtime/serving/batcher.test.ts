// Dynamic batching with TF Serving's knobs: rows of requests arriving together are predicted in one batch, a
// batch waits up to its timeout to fill, large requests are split over batches and answered whole, a full
// queue refuses at once with 503 (and a request larger than the queue can ever hold with 413), num_batch_threads bounds concurrent batches, a failing batch fails only
// its own requests, and close() answers everything queued.

import { Batcher, type BatchingOptions } from '../../../runtime/serving/batcher';
import { RequestError } from '../../../runtime/serving/request-error';

function recorder(opts: Partial<BatchingOptions>, run?: (items: number[]) => number[] | Promise<number[]>) {
  const batches: number[][] = [];
  const batcher = new Batcher<number, number>(
    { maxBatchSize: 4, batchTimeoutMicros: 0, numBatchThreads: 1, maxEnqueuedBatches: 10, ...opts },
    (items) => {
      batches.push(items);
      return run ? run(items) : items.map((x) => x * 10);
    },
    'model m version 1',
  );
  return { batcher, batches };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('requests submitted together share a batch; each gets its own outputs in order', async () => {
  const { batcher, batches } = recorder({});
  const results = await Promise.all([batcher.submit([1, 2]), batcher.submit([3]), batcher.submit([4, 5])]);
  expect(results).toEqual([[10, 20], [30], [40, 50]]);
  // 1,2,3 fill 3 of 4 rows; 4,5 does not fit the 1 row left: 4 joins, 5 starts the next batch.
  expect(batches).toEqual([[1, 2, 3, 4], [5]]);
});

test('a request larger than max_batch_size is split over batches and answered whole', async () => {
  const { batcher, batches } = recorder({});
  expect(await batcher.submit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
  expect(await batcher.submit([])).toEqual([]);
});

test('with a batch timeout a batch that is not full waits for more rows, and goes at once when full', async () => {
  // A timeout far above the 50 ms gap, so a slow machine cannot send the first row alone.
  const { batcher, batches } = recorder({ batchTimeoutMicros: 1_000_000 });
  const started = Date.now();
  const first = batcher.submit([1]);
  await sleep(50);
  const second = batcher.submit([2]);
  expect(await Promise.all([first, second])).toEqual([[10], [20]]);
  expect(Date.now() - started).toBeGreaterThanOrEqual(990);
  expect(batches).toEqual([[1, 2]]);

  const full = Date.now();
  await batcher.submit([1, 2, 3, 4]);
  expect(Date.now() - full).toBeLessThan(300);
});

test('when max_enqueued_batches batches wait, a request needing another batch is refused with 503; one that fits the open batch is not', async () => {
  const { batcher, batches } = recorder({ batchTimeoutMicros: 100_000, maxEnqueuedBatches: 1 });
  const waiting = batcher.submit([1, 2, 3]);
  const refused = batcher.submit([4, 5]);
  await expect(refused).rejects.toThrow(RequestError);
  await expect(refused).rejects.toMatchObject({ status: 503, message: 'the batch queue of model m version 1 is full (1 batches waiting); retry later' });
  const fits = batcher.submit([6]);
  expect(await Promise.all([waiting, fits])).toEqual([[10, 20, 30], [60]]);
  expect(batches).toEqual([[1, 2, 3, 6]]);
  // Once the queue has drained there is room again.
  expect(await batcher.submit([7, 8])).toEqual([70, 80]);
});

test('a request needing more batches than max_enqueued_batches can ever hold is refused with 413 naming the limit; one at the limit is answered', async () => {
  const { batcher, batches } = recorder({ maxEnqueuedBatches: 2 });
  const tooMany = batcher.submit([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  await expect(tooMany).rejects.toThrow(RequestError);
  await expect(tooMany).rejects.toMatchObject({
    status: 413,
    message: 'a request of 9 rows is larger than model m version 1 takes: at most 8 rows (max_enqueued_batches 2 × max_batch_size 4); split it',
  });
  expect(batches).toEqual([]);
  expect(await batcher.submit([1, 2, 3, 4, 5, 6, 7, 8])).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
});

test('num_batch_threads bounds how many batches are predicted at once', async () => {
  let running = 0;
  let most = 0;
  const slow = async (items: number[]) => {
    most = Math.max(most, ++running);
    await sleep(20);
    running--;
    return items;
  };
  const two = recorder({ maxBatchSize: 1, numBatchThreads: 2 }, slow);
  await Promise.all([1, 2, 3, 4, 5].map((x) => two.batcher.submit([x])));
  expect(most).toBe(2);
  most = 0;
  const one = recorder({ maxBatchSize: 1, numBatchThreads: 1 }, slow);
  await Promise.all([1, 2, 3].map((x) => one.batcher.submit([x])));
  expect(most).toBe(1);
});

test('a failing batch fails the requests in it and only those', async () => {
  const { batcher } = recorder({ maxBatchSize: 2 }, (items) => {
    if (items.includes(13)) throw new Error('unlucky');
    return items;
  });
  const [a, b, c] = await Promise.allSettled([batcher.submit([1, 13]), batcher.submit([2, 3, 4]), batcher.submit([5])]);
  expect(a).toMatchObject({ status: 'rejected', reason: { message: 'unlucky' } });
  // [2, 3, 4] rides in batches [2, 3] and [4, 5]: neither has 13.
  expect(b).toEqual({ status: 'fulfilled', value: [2, 3, 4] });
  expect(c).toEqual({ status: 'fulfilled', value: [5] });
});

test('close() stops waiting for more rows, answers everything queued and resolves when idle', async () => {
  const { batcher, batches } = recorder({ batchTimeoutMicros: 10_000_000 });
  const pending = batcher.submit([1, 2]);
  const started = Date.now();
  await batcher.close();
  expect(await pending).toEqual([10, 20]);
  expect(Date.now() - started).toBeLessThan(1000);
  expect(batches).toEqual([[1, 2]]);
  await batcher.close();
});
