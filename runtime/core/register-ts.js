// Loads the runtime's TypeScript in a source checkout or an image (sucrase's require hook), stripping types
// and turning imports into require() only. ES2022 syntax stays as written, as tsc emits it for the compiled
// tree: sucrase's default rewrites every `?.` and `??` into helper calls that allocate an array and closures
// each time they run, which showed in the model server's per-request profile. Files under node_modules are
// transpiled too: that is where the runtime's own sources are in a pipeline project that installed the package.
require('sucrase/dist/register').addHook('.ts', { transforms: ['imports', 'typescript'], disableESTransforms: true }, { ignoreNodeModules: false });
