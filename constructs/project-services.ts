// ProjectServices: the Google APIs a stack's constructs need, enabled once per stack and project (shared by every
// construct that asks), and never disabled on destroy (other stacks or people may use them).
import { Construct } from 'constructs';
import { TerraformStack } from 'cdktf';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';

/** One stack's enabled APIs. Construct id `project-services`, children `<api without .googleapis.com>[-<project>]`. */
export class ProjectServices extends Construct {
  /** The stack's instance, created on first use. */
  static of(scope: Construct): ProjectServices {
    const stack = TerraformStack.of(scope);
    return (stack.node.tryFindChild('project-services') as ProjectServices | undefined) ?? new ProjectServices(stack, 'project-services');
  }

  private constructor(scope: Construct, id: string) {
    super(scope, id);
  }

  /**
   * Enables `api` (e.g. `aiplatform.googleapis.com`) in `project` and returns the resource, so callers can
   * `dependsOn` it. Asking twice returns the same resource.
   */
  enable(api: string, project?: string): ProjectService {
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*\.googleapis\.com$/.test(api)) {
      throw new Error(`ProjectServices: '${api}' is not an API service name like aiplatform.googleapis.com.`);
    }
    const id = `${api.replace(/\.googleapis\.com$/, '').replace(/\./g, '-')}${project ? `-${project}` : ''}`;
    const existing = this.node.tryFindChild(id) as ProjectService | undefined;
    return existing ?? new ProjectService(this, id, { service: api, project, disableOnDestroy: false, disableDependentServices: false });
  }
}
