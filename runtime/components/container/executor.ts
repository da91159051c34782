// The executor of every container component, run by the launcher like any other (so inputs are checked
// against their commit markers and outputs are published atomically afterwards): it builds the ExecutorInput
// the command sees, with local paths for every artifact and output parameter file, resolves the
// placeholders, runs the command (local process or container engine, local-exec.ts), and reads back what the
// command wrote: output artifacts, output parameter files and KFP's ExecutorOutput (artifact metadata, parameter values).

import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ExecutorContext, InputPorts, OutputPorts, ParameterSchema } from '../../core/component';
import { ExecutorOutputSchema, formatZodIssues, type ExecutorInput, type ExecutorOutput } from '../../core/executor-io';
import { UserError } from '../../core/errors';
import type { Properties, PropertyValue } from '../../metadata/types';
import { checkOutputProperties } from '../../metadata/property-encoding';
import type { ArtifactType } from '../../core/artifact-types';
import { FINGERPRINT_PROPERTY } from '../../core/launcher';
import { kfpArtifactType } from '../../compilers/kfp-artifact-types';
import { LOCAL_EXEC_ENV, localExecution, parseLocalExecMode, runProcess } from './local-exec';
import { resolveCommandLine, type PlaceholderView } from './placeholders';
import { CONTAINER_DISTRIBUTION_ENV, parseContainerDistribution, rankLayout } from './distribution';
import { runRanks } from '../../runner/distributed-launch';
import type { ContainerSpec, KfpParameterType } from './spec';

/**
 * Custom property of an artifact whose command wrote one file at its KFP path (not a folder): the file's name
 * inside the artifact folder, so a downstream container's `.path` is that file again.
 */
export const ARTIFACT_FILE_PROPERTY = 'mlp_artifact_file';

/** Where the command's files are when it runs in a container (the engine mounts the host folders there). */
const CONTAINER_ROOT = '/mlp';

/** Host folder → path the command sees it at (itself for a local process). */
type Mounts = { host: string; seen: string; readOnly: boolean }[];

export async function runContainer(
  name: string,
  spec: ContainerSpec,
  ports: { inputs: InputPorts; outputs: OutputPorts },
  ctx: ExecutorContext<InputPorts, OutputPorts, ParameterSchema>,
): Promise<void> {
  const where = `container component ${name}`;
  // A node's distribution / tpu (spec.ts withDistribution) reach the local runner's executor process in its env.
  const { [CONTAINER_DISTRIBUTION_ENV]: nodeDistribution, ...processEnv } = process.env;
  if (nodeDistribution !== undefined) spec = { ...spec, distribution: undefined, tpu: undefined, ...parseContainerDistribution(nodeDistribution) };
  const how = localExecution(name, spec, parseLocalExecMode(process.env[LOCAL_EXEC_ENV], LOCAL_EXEC_ENV));
  const inContainer = how.kind === 'container';
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-container-'));
  try {
    const mounts: Mounts = [];
    const seen = (host: string, inside: string, readOnly: boolean): string => {
      if (!inContainer) return host;
      mounts.push({ host, seen: inside, readOnly });
      return inside;
    };
    const workSeen = seen(work, `${CONTAINER_ROOT}/work`, false);

    const paths: PlaceholderView['paths'] = { inputs: {}, outputs: {} };
    const inputArtifacts: NonNullable<NonNullable<ExecutorInput['inputs']>['artifacts']> = {};
    for (const [port, arts] of Object.entries(ctx.inputs)) {
      paths.inputs[port] = [];
      inputArtifacts[port] = { artifacts: [] };
      arts.forEach((a, i) => {
        const folder = seen(a.path, `${CONTAINER_ROOT}/inputs/${port}/${i}`, true);
        const { [ARTIFACT_FILE_PROPERTY]: file, ...metadata } = a.properties;
        const p = typeof file === 'string' ? path.posix.join(folder, file) : folder;
        paths.inputs[port].push(p);
        inputArtifacts[port].artifacts.push({ name: port, type: kfpArtifactType(ports.inputs[port].type, where), uri: p, metadata });
      });
    }
    const outputArtifacts: NonNullable<ExecutorInput['outputs']['artifacts']> = {};
    for (const [port, out] of Object.entries(ctx.outputs)) {
      // The KFP path does not exist yet: the command writes a file or makes a folder there.
      const p = path.posix.join(seen(out.path, `${CONTAINER_ROOT}/outputs/${port}`, false), port);
      paths.outputs[port] = p;
      outputArtifacts[port] = { artifacts: [{ name: port, type: kfpArtifactType(ports.outputs[port].type, where), uri: p, metadata: {} }] };
    }
    const parameterFiles: Record<string, { host: string; seen: string }> = {};
    for (const p of Object.keys(spec.outputParameters)) {
      await fs.promises.mkdir(path.join(work, 'parameters', p), { recursive: true });
      parameterFiles[p] = { host: path.join(work, 'parameters', p, 'data'), seen: path.posix.join(workSeen, 'parameters', p, 'data') };
    }
    const executorInput: ExecutorInput = {
      inputs: {
        parameterValues: Object.fromEntries(Object.entries(ctx.parameters as Record<string, unknown>).filter(([, v]) => v !== undefined)),
        artifacts: inputArtifacts,
      },
      outputs: {
        artifacts: outputArtifacts,
        parameters: Object.fromEntries(Object.entries(parameterFiles).map(([p, f]) => [p, { outputFile: f.seen }])),
        outputFile: path.posix.join(workSeen, 'executor_output.json'),
      },
    };
    const view: PlaceholderView = { executorInput, paths };
    const commandParts = how.kind === 'subprocess' ? how.command : spec.command;
    const command = resolveCommandLine(commandParts, view, where);
    const args = resolveCommandLine(spec.args, view, where);
    await fs.promises.writeFile(path.join(work, 'executor_input.json'), JSON.stringify(executorInput, null, 2));

    const argv = inContainer ? engineArgv(how.engine, spec, mounts, command, args) : [...command, ...args];
    // Environment values may be credentials: the log names the variables only.
    const shown = argv.map((a, i) => (argv[i - 1] === '--env' ? `${a.split('=')[0]}=…` : a));
    ctx.log(`${where}: running ${inContainer ? `image ${spec.image} on ${path.basename(how.engine)}` : 'as a local process'}: ${shown.join(' ')}`);
    const before = await snapshotInputs(ctx.inputs);
    // A distributed step runs as local processes only (localExecution refuses an engine for it).
    const layout = rankLayout(spec.distribution, spec.tpu, where);
    const outcome = layout
      ? await runRanks(layout, view, work, (v) => [...resolveCommandLine(commandParts, v, where), ...resolveCommandLine(spec.args, v, where)], { ...processEnv, ...spec.env }, where, ctx.log)
      : await runProcess(argv, { ...processEnv, ...spec.env }, where);
    await checkInputsUnchanged(before, where);
    if (outcome.code !== 0) {
      const end = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.code}`;
      const tail = outcome.stderrTail.length ? `; last stderr lines: ${outcome.stderrTail.join(' | ')}` : '; it wrote nothing to stderr';
      throw new UserError(`${where}: ${path.basename(argv[0])} ${end}${tail}`);
    }

    const written = await readExecutorOutput(path.join(work, 'executor_output.json'), where);
    for (const [p, type] of Object.entries(spec.outputParameters)) {
      ctx.outputParameters[p] = await outputParameterValue(p, type, written.parameterValues?.[p], parameterFiles[p].host, where);
    }
    for (const [port, out] of Object.entries(ctx.outputs)) {
      const metadata = written.artifacts?.[port]?.artifacts?.[0]?.metadata ?? {};
      checkMetadata(port, ports.outputs[port].type, metadata, where);
      Object.assign(out.properties, metadata as Properties);
      const file = await settleOutput(out.path, port, where);
      if (file) out.properties[ARTIFACT_FILE_PROPERTY] = file;
    }
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}

type InputSnapshot = { port: string; folder: string; files: Map<string, string> }[];

/** Every file of a folder with its size and modification time, by relative path. */
async function listFiles(folder: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.promises.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else {
        const st = await fs.promises.lstat(full);
        files.set(path.relative(folder, full), `${st.size}:${st.mtimeMs}`);
      }
    }
  };
  await walk(folder);
  return files;
}

async function snapshotInputs(inputs: ExecutorContext<InputPorts, OutputPorts, ParameterSchema>['inputs']): Promise<InputSnapshot> {
  const out: InputSnapshot = [];
  for (const [port, arts] of Object.entries(inputs)) for (const a of arts) out.push({ port, folder: a.path, files: await listFiles(a.path) });
  return out;
}

/**
 * A local process sees the published input folders themselves (a container gets them read-only): a command that
 * wrote into one changed another step's committed artifact, which must not pass unnoticed.
 */
async function checkInputsUnchanged(before: InputSnapshot, where: string): Promise<void> {
  for (const { port, folder, files } of before) {
    const now = await listFiles(folder).catch(() => new Map<string, string>());
    const changed = [...new Set([...files.keys(), ...now.keys()])].filter((f) => files.get(f) !== now.get(f)).sort();
    if (changed.length) {
      const what = changed.slice(0, 3).map((f) => `${f} ${!now.has(f) ? 'removed' : !files.has(f) ? 'added' : 'changed'}`).join(', ');
      throw new UserError(`${where}: the command changed its input artifact "${port}" (${folder}: ${what}${changed.length > 3 ? ', …' : ''}); inputs are read-only, write only to outputs`);
    }
  }
}

const RESERVED_PROPERTIES = new Set([ARTIFACT_FILE_PROPERTY, FINGERPRINT_PROPERTY]);

/**
 * Refuses ExecutorOutput metadata the metadata store would refuse after the output was published (a declared
 * property of the wrong type, a fraction in an integer property: the store's own rule) or that would overwrite
 * the runtime's own.
 */
function checkMetadata(port: string, type: ArtifactType, metadata: Record<string, unknown>, where: string): void {
  const named = (name: string) => `${where}: ExecutorOutput metadata "${name}" of output artifact "${port}"`;
  const reserved = Object.keys(metadata).find((name) => RESERVED_PROPERTIES.has(name));
  if (reserved) throw new UserError(`${named(reserved)} is set by the runtime, got ${JSON.stringify(metadata[reserved])}`);
  checkOutputProperties(type.properties, metadata, (name) => `${named(name)} (${type.name})`);
}

/** `docker run` (or podman's) with the folders mounted, as the invoking user so the outputs stay ours. */
function engineArgv(engine: string, spec: ContainerSpec, mounts: Mounts, command: string[], args: string[]): string[] {
  const user = typeof process.getuid === 'function' ? ['--user', `${process.getuid()}:${process.getgid!()}`] : [];
  return [
    engine, 'run', '--rm', ...user,
    ...mounts.flatMap((m) => ['--volume', `${m.host}:${m.seen}${m.readOnly ? ':ro' : ''}`]),
    ...Object.entries(spec.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    '--entrypoint', command[0], spec.image, ...command.slice(1), ...args,
  ];
}

async function readExecutorOutput(file: string, where: string): Promise<ExecutorOutput> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${where}: its ExecutorOutput (executor_output.json) is not JSON: ${(err as Error).message}`);
  }
  const parsed = ExecutorOutputSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(`${where}: invalid ExecutorOutput (executor_output.json): ${formatZodIssues(parsed.error.issues)}`);
  return parsed.data;
}

const BOOLEAN_TEXT: Record<string, boolean> = { true: true, t: true, '1': true, false: false, f: false, '0': false };

/** An output parameter's value: from the ExecutorOutput when given there, else from its output file, checked against its type. */
async function outputParameterValue(name: string, type: KfpParameterType, fromOutput: unknown, file: string, where: string): Promise<PropertyValue> {
  const bad = (what: string) => new UserError(`${where}: output parameter "${name}" (${type}) ${what}`);
  if (fromOutput !== undefined) {
    const ok =
      type === 'STRING' ? typeof fromOutput === 'string'
      : type === 'NUMBER_INTEGER' ? Number.isInteger(fromOutput)
      : type === 'NUMBER_DOUBLE' ? typeof fromOutput === 'number'
      : type === 'BOOLEAN' ? typeof fromOutput === 'boolean'
      : type === 'LIST' ? Array.isArray(fromOutput)
      : !!fromOutput && typeof fromOutput === 'object' && !Array.isArray(fromOutput);
    if (!ok) throw bad(`is ${JSON.stringify(fromOutput)} in the ExecutorOutput`);
    return fromOutput as PropertyValue;
  }
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw bad('was not written (neither its output_file nor the ExecutorOutput has it)');
    throw err;
  }
  const t = text.trim();
  switch (type) {
    case 'STRING':
      return text;
    case 'NUMBER_INTEGER':
      if (!/^[-+]?\d+$/.test(t)) throw bad(`is not an integer: ${JSON.stringify(t.slice(0, 40))}`);
      return Number(t);
    case 'NUMBER_DOUBLE': {
      const n = t === '' ? NaN : Number(t);
      if (!Number.isFinite(n)) throw bad(`is not a number: ${JSON.stringify(t.slice(0, 40))}`);
      return n;
    }
    case 'BOOLEAN': {
      const b = BOOLEAN_TEXT[t.toLowerCase()];
      if (b === undefined) throw bad(`is not a boolean: ${JSON.stringify(t.slice(0, 40))}`);
      return b;
    }
    default: {
      let v: unknown;
      try {
        v = JSON.parse(t);
      } catch {
        throw bad(`is not JSON: ${JSON.stringify(t.slice(0, 40))}`);
      }
      if (type === 'LIST' ? !Array.isArray(v) : !v || typeof v !== 'object' || Array.isArray(v)) throw bad(`is not a JSON ${type === 'LIST' ? 'list' : 'object'}: ${JSON.stringify(t.slice(0, 40))}`);
      return v as PropertyValue;
    }
  }
}

/**
 * Turns what the command wrote at `<scratch>/<port>` into the artifact folder: a folder's contents become the
 * artifact's (so it reads like a bundled component's output); a single file stays as `<port>`, whose name is
 * returned. Writing nothing there is an error, not an empty artifact.
 */
async function settleOutput(scratch: string, port: string, where: string): Promise<string | undefined> {
  const written = path.join(scratch, port);
  const stat = await fs.promises.lstat(written).catch(() => undefined);
  if (!stat) throw new UserError(`${where}: the command wrote nothing at output artifact "${port}" (its path ${written})`);
  if (stat.isFile()) return port;
  if (!stat.isDirectory()) throw new UserError(`${where}: output artifact "${port}" is neither a file nor a folder (${written})`);
  const moved = path.join(scratch, `.${port}.${randomBytes(4).toString('hex')}`);
  await fs.promises.rename(written, moved);
  for (const entry of await fs.promises.readdir(moved)) await fs.promises.rename(path.join(moved, entry), path.join(scratch, entry));
  await fs.promises.rmdir(moved);
  return undefined;
}
