// The project number (for service agent e-mails and Workload Identity principal:// members), read once per scope.
import { Construct } from 'constructs';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project';

/** The number of `project`, from a `google_project` data source with construct id `project` in `scope` (shared). */
export function projectNumber(scope: Construct, project: string): string {
  const data = (scope.node.tryFindChild('project') as DataGoogleProject | undefined) ?? new DataGoogleProject(scope, 'project', { projectId: project });
  return data.number;
}
