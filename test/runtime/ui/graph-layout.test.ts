// Positions of graph nodes: layers by longest path (every edge goes down), order inside a layer following
// the predecessors, deterministic, and never stuck on a cycle.

import { layout } from '../../../runtime/ui/api/graph-layout';

test('a node sits one layer below its deepest predecessor', () => {
  const places = layout(['a', 'b', 'c', 'd'], [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
    { from: 'a', to: 'c' },
    { from: 'a', to: 'd' },
  ]);
  expect(Object.fromEntries([...places].map(([k, p]) => [k, p.layer]))).toEqual({ a: 0, b: 1, d: 1, c: 2 });
});

test('inside a layer, nodes follow the order of their predecessors', () => {
  const places = layout(['left', 'right', 'under-right', 'under-left'], [
    { from: 'left', to: 'under-left' },
    { from: 'right', to: 'under-right' },
  ]);
  expect(places.get('under-left')!.order).toBeLessThan(places.get('under-right')!.order);
  expect(layout(['left', 'right', 'under-right', 'under-left'], [{ from: 'left', to: 'under-left' }, { from: 'right', to: 'under-right' }])).toEqual(places);
});

test('edges to unknown nodes are ignored and a cycle still gets an answer', () => {
  const places = layout(['a', 'b'], [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'a' },
    { from: 'a', to: 'ghost' },
  ]);
  expect([...places.keys()].sort()).toEqual(['a', 'b']);
});
