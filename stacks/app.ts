// Builds the cdktf app with one `<env>-platform` stack per environment; used by stacks/main.ts, the tests and the bench.
import { App } from 'cdktf';
import { ENVIRONMENT_NAMES, environment } from './environments';
import { PlatformStack } from './platform-stack';
import { EnvironmentName } from './config';

export interface PlatformApp {
  readonly app: App;
  readonly stacks: PlatformStack[];
}

/** Creates the app and its stacks (not yet synthesized). `outdir` defaults to CDKTF_OUTDIR or `cdktf.out`. */
export function buildPlatformApp(options: { outdir?: string; environments?: readonly EnvironmentName[] } = {}): PlatformApp {
  const app = new App({ outdir: options.outdir, skipValidation: false });
  const stacks = (options.environments ?? ENVIRONMENT_NAMES).map((env) => new PlatformStack(app, environment(env)));
  return { app, stacks };
}
