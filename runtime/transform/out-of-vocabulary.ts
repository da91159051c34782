// Out-of-vocabulary rates: every vocabulary output's values on a split (read exactly as apply reads them),
// counted against its vocabulary. The Transform component records them in the graph; a rate over the
// Transform's max_oov_rate is a failure reason of the Evaluator, so a feature that the vocabulary does not
// know (a dead feature) keeps its model from being blessed instead of passing silently.

import { sqlIdent, sqlStringList, withConnection } from '../data/duckdb';
import { tokenFor, vocabIndexOf } from './apply';
import type { TransformGraph, TransformOutput } from './graph';

function isVocabulary(o: TransformOutput): o is TransformOutput & { analyzer: { kind: 'vocabulary' } } {
  return o.analyzer.kind === 'vocabulary';
}

/** The graph with each vocabulary output's out-of-vocabulary rate on a split's Parquet files. */
export async function measureOutOfVocabulary(graph: TransformGraph, files: string[], split: string, maxRate: number): Promise<TransformGraph> {
  const vocabularies = graph.outputs.filter(isVocabulary);
  if (vocabularies.length === 0) return graph;
  const counts = vocabularies.map(() => ({ values: 0, oov: 0 }));
  const features = [...new Set(vocabularies.map((o) => o.inputs[0]))];
  await withConnection(async (conn) => {
    const result = await conn.stream(`SELECT ${features.map(sqlIdent).join(', ')} FROM read_parquet(${sqlStringList(files)})`);
    for await (const chunk of result.yieldRowObjectJs()) {
      for (const row of chunk) {
        vocabularies.forEach((o, i) => {
          const token = tokenFor(o, row[o.inputs[0]]);
          if (token === undefined) return;
          counts[i].values++;
          if (!vocabIndexOf(o.analyzer).has(token)) counts[i].oov++;
        });
      }
    }
  });
  const measured = new Map<TransformOutput, { values: number; oov: number }>(vocabularies.map((o, i) => [o, counts[i]]));
  return {
    ...graph,
    outputs: graph.outputs.map((o) => {
      const c = measured.get(o);
      return c ? { ...o, outOfVocabulary: { split, ...c, rate: c.values > 0 ? c.oov / c.values : 0, maxRate } } : o;
    }),
  };
}

/** One line per vocabulary whose out-of-vocabulary rate is over its threshold. */
export function outOfVocabularyFailures(graph: TransformGraph): string[] {
  return graph.outputs.flatMap((o) => {
    const m = o.outOfVocabulary;
    if (!m || m.rate <= m.maxRate) return [];
    const percent = (m.rate * 100).toFixed(1);
    return [`vocabulary "${o.name}" of feature "${o.inputs[0]}": ${m.oov} of ${m.values} values (${percent}%) of split ${m.split} are out of vocabulary, over the Transform's max_oov_rate ${m.maxRate}`];
  });
}
