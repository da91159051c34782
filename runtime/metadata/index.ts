// Entry point of the metadata store: parses a store address (`sqlite:PATH`, a .sqlite/.db path, or
// `postgres://...`) and opens the matching backend, creating or upgrading the MLMD schema on first use.
export * from './types';
