// What an MLMD event says: an input or an output of its execution (as lineage follows them), a pending
// output of a running execution, and the port its path names. Shared by the UI's API and `mlp lineage`.

import { EventType, type Event } from './types';

const INPUTS = new Set([EventType.INPUT, EventType.DECLARED_INPUT, EventType.INTERNAL_INPUT]);
const OUTPUTS = new Set([EventType.OUTPUT, EventType.DECLARED_OUTPUT, EventType.INTERNAL_OUTPUT]);

export const isInputEvent = (e: Event): boolean => INPUTS.has(e.type);
/** Outputs as lineage counts them (getLineage follows these). */
export const isOutputEvent = (e: Event): boolean => OUTPUTS.has(e.type);
/** A running execution registers its outputs this way first; they get an OUTPUT event when it completes. */
export const isPendingOutput = (e: Event): boolean => e.type === EventType.PENDING_OUTPUT;

/** The port an event's path names (the runner records [{key: port}, {index: i}]). */
export function portOf(e: Event): string {
  const step = e.path?.find((s) => 'key' in s);
  return step && 'key' in step ? step.key : '';
}
