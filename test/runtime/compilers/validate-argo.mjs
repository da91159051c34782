// Validates Argo Workflows manifests (JSON files) with @kubernetes-models/argo-workflows, the models generated
// from Argo's own API types: wrong types and missing required fields are errors (unknown fields are not). ESM
// only, so the jest tests run it as a child process. Prints one JSON list: null per valid file, else the error.
// Usage: node validate-argo.mjs FILE...

import { readFileSync } from 'fs';
import { WorkflowTemplate } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/WorkflowTemplate';
import { CronWorkflow } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/CronWorkflow';

const KINDS = { WorkflowTemplate, CronWorkflow };

const results = process.argv.slice(2).map((file) => {
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  const Model = KINDS[manifest.kind];
  if (!Model) return `unknown kind ${manifest.kind}`;
  try {
    new Model(manifest).validate();
    return null;
  } catch (err) {
    return String(err.message ?? err).slice(0, 4000);
  }
});
process.stdout.write(JSON.stringify(results));
