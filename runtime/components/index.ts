// The bundled components. Importing this module registers them all, so `mlp component run <name>` and the
// runner's executor processes can find them by name.

export { ProduceNumbers } from './demo/produce-numbers';
export { ScaleNumbers } from './demo/scale-numbers';
export { SummarizeNumbers } from './demo/summarize-numbers';
