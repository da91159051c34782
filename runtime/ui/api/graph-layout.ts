// Positions for the graphs the pages draw (a run's DAG, an artifact's lineage) so the browser only places
// boxes: each node's layer is the longest path from a source (every edge points to a later layer), and the
// order inside a layer follows the average position of the node's predecessors, which keeps most edges
// from crossing. Plain and deterministic: the same graph always gets the same picture.

export interface Placement {
  layer: number;
  order: number;
}

export function layout(keys: string[], edges: { from: string; to: string }[]): Map<string, Placement> {
  const known = new Set(keys);
  const preds = new Map<string, string[]>(keys.map((k) => [k, []]));
  for (const e of edges) if (known.has(e.from) && known.has(e.to) && e.from !== e.to) preds.get(e.to)!.push(e.from);

  const layers = new Map<string, number>();
  const visiting = new Set<string>();
  const layerOf = (key: string): number => {
    const done = layers.get(key);
    if (done !== undefined) return done;
    // A cycle cannot come from MLMD events of a finished run, but a graph from a store must never hang the page.
    if (visiting.has(key)) return 0;
    visiting.add(key);
    const layer = Math.max(-1, ...preds.get(key)!.map(layerOf)) + 1;
    visiting.delete(key);
    layers.set(key, layer);
    return layer;
  };
  keys.forEach(layerOf);

  const byLayer: string[][] = [];
  for (const key of keys) (byLayer[layers.get(key)!] ??= []).push(key);
  const placed = new Map<string, Placement>();
  byLayer.forEach((members, layer) => {
    const weight = (key: string): number => {
      const orders = preds.get(key)!.map((p) => placed.get(p)?.order).filter((o): o is number => o !== undefined);
      return orders.length ? orders.reduce((a, b) => a + b, 0) / orders.length : Number.POSITIVE_INFINITY;
    };
    const ranked = members.map((key, i) => ({ key, i, w: weight(key) })).sort((a, b) => a.w - b.w || a.i - b.i);
    ranked.forEach(({ key }, order) => placed.set(key, { layer, order }));
  });
  return placed;
}
