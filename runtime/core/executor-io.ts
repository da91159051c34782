// The container contract, as KFP v2 defines it: an ExecutorInput (parameters, input artifacts, output
// artifact URIs, output file) goes into a component and an ExecutorOutput comes back. The local runner and
// `mlp component run` in a container both speak exactly this, so what passes locally passes in a container.

import { z } from 'zod';

const RuntimeArtifactSchema = z.object({
  name: z.string().optional(),
  type: z.object({ schemaTitle: z.string().optional(), schemaVersion: z.string().optional() }).optional(),
  uri: z.string().min(1),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

const ArtifactListSchema = z.object({ artifacts: z.array(RuntimeArtifactSchema) });

export const ExecutorInputSchema = z.object({
  inputs: z
    .object({
      parameterValues: z.record(z.string(), z.unknown()).optional(),
      artifacts: z.record(z.string(), ArtifactListSchema).optional(),
    })
    .optional(),
  outputs: z.object({
    artifacts: z.record(z.string(), ArtifactListSchema).optional(),
    parameters: z.record(z.string(), z.object({ outputFile: z.string() })).optional(),
    outputFile: z.string().optional(),
  }),
});

export const ExecutorOutputSchema = z.object({
  artifacts: z.record(z.string(), ArtifactListSchema).optional(),
  parameterValues: z.record(z.string(), z.unknown()).optional(),
});

export type RuntimeArtifact = z.infer<typeof RuntimeArtifactSchema>;

/**
 * An input artifact's name as Vertex AI Pipelines gives it, the MLMD resource name ending in
 * `artifacts/<id>`; the drivers name inputs the same way so executors can record ids as TFX does.
 */
export const artifactResourceName = (id: number): string => `metadataStores/default/artifacts/${id}`;

/** The MLMD artifact id in a RuntimeArtifact name of that form, if it has one. */
export function artifactIdOfName(name: string | undefined): number | undefined {
  const match = /(?:^|\/)artifacts\/(\d+)$/.exec(name ?? '');
  return match ? Number(match[1]) : undefined;
}
export type ExecutorInput = z.infer<typeof ExecutorInputSchema>;
export type ExecutorOutput = z.infer<typeof ExecutorOutputSchema>;

/** Formats zod issues as `path: message; path: message` for one-line errors. */
export function formatZodIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  return issues
    .map((i) => {
      const p = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
      return `${p || '(root)'}: ${i.message}`;
    })
    .join('; ');
}
