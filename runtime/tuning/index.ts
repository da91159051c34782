// The hyperparameter tuning library behind the Tuner component: search space, oracle (random, grid or
// Bayesian search), median early stopping, the parallel tuner loop and the JSON it publishes.

export { checkHyperparameters, describeParameter, ParameterSpec, SearchSpace, type HyperparameterValue, type Hyperparameters } from './search-space';
export type { Goal, IntermediateValue, Objective } from './objective';
export type { ScoredTrial, TrialOutcome, TrialRecord, TrialResult, TrialSuggestion } from './trial';
export { DEFAULT_GRID_POINTS_PER_DOUBLE } from './grid';
export { createOracle, type Algorithm, type Oracle, type OracleOptions } from './oracle';
export { shouldStop, type MedianStoppingOptions } from './median-stopping';
export { runSearch, type SearchOptions, type SearchResult, type StopDecision, type TrialContext } from './search';
export { hyperParametersContent, trialsTable, type HyperParametersContent, type TrialRow } from './results';
