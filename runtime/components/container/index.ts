// Container components: user images (any language or framework) as pipeline steps with our artifact types,
// defined in TypeScript (containerComponent) or loaded from a KFP component YAML (loadKfpComponent).

export { containerComponent, isContainerComponent, kfpCommandLine, withDistribution } from './spec';
export type { CommandPart, ContainerComponent, ContainerComponentProps, ContainerSpec, KfpParameterType } from './spec';
export { ARTIFACT_FILE_PROPERTY } from './executor';
export { KFP_ARTIFACT_TYPES, kfpComponentIR, loadKfpComponent, loadKfpComponents } from './kfp-component';
export { rankEnvironment, rankLayout, tpuHosts, type DistributionSpec, type RankLayout, type TpuSlice } from './distribution';
export { LOCAL_EXEC_MODES, type LocalExecMode } from './local-exec';
