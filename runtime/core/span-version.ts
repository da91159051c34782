// The span and version an artifact derived from Examples carries over from its input, as TFX's components
// copy them: present only when the input has them, never a made-up 0 that would put it in the wrong span.
import type { Properties } from '../metadata/types';

/** `span` and `version` of `properties`, each only when set. */
export function inheritedSpanVersion(properties: Properties): Properties {
  const { span, version } = properties;
  return { ...(span === undefined ? {} : { span }), ...(version === undefined ? {} : { version }) };
}
