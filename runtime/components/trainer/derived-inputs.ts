// The Trainer's refusal of derived columns as model inputs. ExampleGen's derived columns (recorded on the Examples
// artifact) exist only at ingestion: a serving request carries raw columns, and the transform graph that
// training, evaluation and serving share has no SQL to compute them from. So a derived column may be the label
// (never sent for prediction) or serve evaluation slices, but a model whose signature asks for one as a raw
// input could never be served; it is refused before it is published.

import { UserError } from '../../core/errors';
import type { Signature } from '../../ml/signature';

/** Fails when a raw input of `signature` is one of the examples' derived columns (name → expression). */
export function refuseDerivedModelInputs(signature: Signature, derived: Record<string, string>): void {
  const used = signature.inputs.filter((i) => i.name in derived);
  if (used.length === 0) return;
  const what = used.map((i) => `"${i.name}" (${JSON.stringify(derived[i.name])})`).join(', ');
  throw new UserError(
    `Trainer: the model reads ${used.length === 1 ? 'a derived column' : 'derived columns'} of the examples as input: ${what}; ` +
      `derived columns are computed at ingestion only and serving requests never carry them: use one only as the label, ` +
      `or give the Transform the raw columns it is computed from`,
  );
}
