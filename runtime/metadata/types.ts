// The metadata store's public model and interface: ML Metadata (MLMD, schema version 10) entities,
// their enum codes exactly as MLMD stores them, and the queries the rest of the platform needs.
import type { ProtoValue } from './mlmd-values';

/** Artifact.State codes as stored in MLMD's Artifact.state column. */
export enum ArtifactState {
  UNKNOWN = 0,
  PENDING = 1,
  LIVE = 2,
  MARKED_FOR_DELETION = 3,
  DELETED = 4,
  ABANDONED = 5,
  REFERENCE = 6,
}

/** Execution.State codes as stored in MLMD's Execution.last_known_state column. */
export enum ExecutionState {
  UNKNOWN = 0,
  NEW = 1,
  RUNNING = 2,
  COMPLETE = 3,
  FAILED = 4,
  CACHED = 5,
  CANCELED = 6,
}

/** Event.Type codes as stored in MLMD's Event.type column. */
export enum EventType {
  UNKNOWN = 0,
  DECLARED_OUTPUT = 1,
  DECLARED_INPUT = 2,
  INPUT = 3,
  OUTPUT = 4,
  INTERNAL_INPUT = 5,
  INTERNAL_OUTPUT = 6,
  PENDING_OUTPUT = 7,
}

/** Type.type_kind codes. */
export enum TypeKind {
  EXECUTION = 0,
  ARTIFACT = 1,
  CONTEXT = 2,
}

/** MLMD PropertyType codes (TypeProperty.data_type). */
export enum PropertyType {
  UNKNOWN = 0,
  INT = 1,
  DOUBLE = 2,
  STRING = 3,
  STRUCT = 4,
  PROTO = 5,
  BOOLEAN = 6,
}

/**
 * A property value. For declared properties the type's PropertyType decides the column; for custom
 * properties: numbers → double_value (a metric that happens to be 1 is still a double, as KFP and TFX record
 * metrics), except the INTEGER_CUSTOM_PROPERTIES → int_value; strings → string_value, booleans → bool_value,
 * plain objects/arrays → STRUCT (`mlmd-struct::` + base64 Struct in string_value, as MLMD writes it), a
 * ProtoValue → proto_value (see mlmd-values.ts).
 */
/**
 * Custom properties that are integers by meaning, stored in int_value (and refused when not an integer): TFX's
 * span/version when not declared, the flags and model ids TFX's Evaluator and Pusher record as int_value
 * (blessed, current_model_id, baseline_model_id, pushed), counts, and the runner's ids, pids and millisecond
 * durations. JS numbers carry no int/double distinction, so the name decides; every other custom number is a
 * double.
 */
export const INTEGER_CUSTOM_PROPERTIES: ReadonlySet<string> = new Set([
  'span', 'version', 'blessed', 'current_model_id', 'baseline_model_id', 'pushed',
  'row_count', 'bad_row_count', 'anomaly_count', 'example_count',
  'attempts', 'duration_ms', 'runner_pid', 'cached_from_execution',
]);
export type PropertyValue = number | string | boolean | ProtoValue | { [k: string]: unknown } | unknown[];
export type Properties = Record<string, PropertyValue>;

/**
 * MLMD's system base types (ArtifactType.SystemDefinedBaseType), stored as a ParentType row to the type
 * `mlmd.<name>`, as TFX records its artifact types' TYPE_ANNOTATION (e.g. Examples → mlmd.Dataset).
 */
export type SystemBaseType = 'Dataset' | 'Model' | 'Metrics' | 'Statistics';
export const SYSTEM_TYPE_PREFIX = 'mlmd.';

export interface TypeDefinition {
  kind: TypeKind;
  name: string;
  version?: string;
  description?: string;
  /** The MLMD system type this type derives from; a type keeps the base type it was first given. */
  baseType?: SystemBaseType;
  /** Declared properties and their types. Re-declaring a type with extra properties adds them; a changed type is an error. */
  properties?: Record<string, PropertyType>;
}

export interface StoredType extends TypeDefinition {
  id: number;
  properties: Record<string, PropertyType>;
}

export interface Artifact {
  id?: number;
  /** Type name (e.g. "Examples"); resolved to type_id by the store. The type must have been put first. */
  type: string;
  uri: string;
  state: ArtifactState;
  name?: string;
  externalId?: string;
  properties?: Properties;
  customProperties?: Properties;
  createTimeSinceEpoch?: number;
  lastUpdateTimeSinceEpoch?: number;
}

export interface Execution {
  id?: number;
  type: string;
  lastKnownState: ExecutionState;
  name?: string;
  externalId?: string;
  properties?: Properties;
  customProperties?: Properties;
  createTimeSinceEpoch?: number;
  lastUpdateTimeSinceEpoch?: number;
}

export interface Context {
  id?: number;
  type: string;
  /** Unique per context type. Putting a context whose (type, name) exists returns the existing id (and updates its properties). */
  name: string;
  externalId?: string;
  properties?: Properties;
  customProperties?: Properties;
  createTimeSinceEpoch?: number;
  lastUpdateTimeSinceEpoch?: number;
}

/** One step of an event path: a port name (key) or a position in a list (index). */
export type EventStep = { key: string } | { index: number };

export interface Event {
  id?: number;
  artifactId: number;
  executionId: number;
  type: EventType;
  path?: EventStep[];
  millisecondsSinceEpoch?: number;
}

export interface ArtifactFilter {
  ids?: number[];
  type?: string;
  state?: ArtifactState | ArtifactState[];
  uri?: string;
  /** Only artifacts attributed to this context. */
  contextId?: number;
  /** Equality on properties (declared or custom). */
  properties?: Properties;
  /** Newest first (create time, then id) when true; oldest first otherwise. */
  newestFirst?: boolean;
  limit?: number;
  offset?: number;
}

export interface ExecutionFilter {
  ids?: number[];
  type?: string;
  state?: ExecutionState | ExecutionState[];
  contextId?: number;
  properties?: Properties;
  newestFirst?: boolean;
  limit?: number;
  offset?: number;
}

export interface ContextFilter {
  ids?: number[];
  type?: string;
  name?: string;
  /** Contexts associated with this execution. */
  executionId?: number;
  /** Contexts attributed to this artifact. */
  artifactId?: number;
  properties?: Properties;
  newestFirst?: boolean;
  limit?: number;
  offset?: number;
}

/** Input/output of putExecution: an artifact (inserted when it has no id, updated otherwise) and the event linking it. */
export interface ArtifactAndEvent {
  artifact: Artifact;
  /** Event type and path; artifact and execution ids are filled in by the store. */
  event?: { type: EventType; path?: EventStep[] };
}

export interface PutExecutionResult {
  executionId: number;
  artifactIds: number[];
  contextIds: number[];
}

/** What competes for a claim: the executions associated with one context (e.g. a cache key's). */
export interface ExecutionClaim {
  /** The context, by type and name; it need not exist yet. */
  context: { type: string; name: string };
  /**
   * Finished (COMPLETE or CACHED) executions of the context the caller has already judged; any other finished
   * one is news that blocks the claim, as does any RUNNING one.
   */
  judged: number[];
}

/** The claim was taken (the execution was written), or these executions block it and nothing was written. */
export type ClaimResult = { claimed: PutExecutionResult; blockedBy?: undefined } | { claimed?: undefined; blockedBy: Execution[] };

export interface LineageGraph {
  artifacts: Artifact[];
  executions: Execution[];
  events: Event[];
}

export type LineageDirection = 'upstream' | 'downstream';

export interface MetadataStore {
  readonly backend: 'sqlite' | 'postgres';
  /** Schema version of the database (10 after open). */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;

  /** Creates the type or returns the id of the identical existing one; adds new properties to an existing type. */
  putType(type: TypeDefinition): Promise<number>;
  getType(kind: TypeKind, name: string): Promise<StoredType | undefined>;
  getTypes(kind: TypeKind): Promise<StoredType[]>;

  /** Inserts artifacts without id, updates those with one. Returns ids in order. */
  putArtifacts(artifacts: Artifact[]): Promise<number[]>;
  putExecutions(executions: Execution[]): Promise<number[]>;
  /** Get-or-create by (type, name); safe under concurrent writers. Returns ids in order. */
  putContexts(contexts: Context[]): Promise<number[]>;
  putEvents(events: Event[]): Promise<void>;
  putAttributions(pairs: { contextId: number; artifactId: number }[]): Promise<void>;
  putAssociations(pairs: { contextId: number; executionId: number }[]): Promise<void>;
  putParentContexts(pairs: { parentId: number; childId: number }[]): Promise<void>;

  /**
   * MLMD's PutExecution, in one transaction: upserts the execution and the artifacts, records the events,
   * get-or-creates the contexts and associates/attributes the execution and artifacts to them.
   */
  putExecution(execution: Execution, artifacts: ArtifactAndEvent[], contexts: Context[]): Promise<PutExecutionResult>;

  /**
   * putExecution, unless the claim's context already has a RUNNING execution or a finished one not in
   * `judged`: then nothing is written and those executions are returned. The check and the write are one
   * transaction under a lock on the context (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock on its
   * name), so of concurrent claimers exactly one wins.
   */
  claimExecution(execution: Execution, artifacts: ArtifactAndEvent[], contexts: Context[], claim: ExecutionClaim): Promise<ClaimResult>;
  /**
   * The final write of a RUNNING execution (it has an id): putExecution, but only while the execution is still
   * RUNNING — and, given `lastUpdate`, not touched since then — checked and written in one transaction. Writes
   * nothing and returns undefined when it is not: another runner ended it, e.g. took its claim over (claim.ts).
   */
  endExecution(execution: Execution & { id: number }, artifacts: ArtifactAndEvent[], contexts: Context[], lastUpdate?: number): Promise<PutExecutionResult | undefined>;
  /** Refreshes the last-update time of an execution that is still in `state`; false when it is not. */
  touchExecution(id: number, state: ExecutionState): Promise<boolean>;

  getArtifacts(filter?: ArtifactFilter): Promise<Artifact[]>;
  getExecutions(filter?: ExecutionFilter): Promise<Execution[]>;
  getContexts(filter?: ContextFilter): Promise<Context[]>;
  getEvents(filter: { artifactIds?: number[]; executionIds?: number[] }): Promise<Event[]>;
  getParentContexts(childId: number): Promise<Context[]>;
  getChildContexts(parentId: number): Promise<Context[]>;
  countArtifacts(filter?: ArtifactFilter): Promise<number>;
  countExecutions(filter?: ExecutionFilter): Promise<number>;

  /** The newest artifact of a type matching the filter (e.g. latest LIVE Model with property blessed=1). */
  getLatestArtifact(type: string, filter?: Omit<ArtifactFilter, 'type' | 'newestFirst' | 'limit'>): Promise<Artifact | undefined>;

  /** Sets the state of artifacts (e.g. LIVE → DELETED when their files are gone). */
  updateArtifactStates(ids: number[], state: ArtifactState): Promise<void>;
  updateExecutionState(id: number, state: ExecutionState, customProperties?: Properties): Promise<void>;

  /**
   * Lineage: upstream walks OUTPUT events back to the producing execution and its INPUT artifacts, and so on;
   * downstream walks INPUT events forward. maxHops counts executions (default unbounded).
   */
  getLineage(artifactId: number, direction: LineageDirection, maxHops?: number): Promise<LineageGraph>;
}
