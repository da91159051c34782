// GkeProviders: the Kubernetes and Helm providers of a stack, configured from an MlCluster (endpoint, CA certificate)
// and a short-lived access token of the deploying identity (google_client_config), so no kubeconfig is needed. The
// cluster is usually in another stack: its endpoint and CA then arrive through cdktf's cross-stack references
// (remote state of the platform stack), known at plan time.
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { HelmProvider } from '@cdktf/provider-helm/lib/provider';
import { MlCluster } from './cluster';

export interface GkeProvidersProps {
  /** The cluster the providers talk to. */
  readonly cluster: MlCluster;
}

/**
 * Construct ids: `client-config` (data source), `kubernetes`, `helm`. One per stack (providers without alias are the
 * stack's defaults). The deploying identity needs `container.developer` or more on the project, and its IP must be in
 * the cluster's master authorized networks (the CI runners' range is in every environment's list).
 */
export class GkeProviders extends Construct {
  readonly kubernetes: KubernetesProvider;
  readonly helm: HelmProvider;

  constructor(scope: Construct, id: string, props: GkeProvidersProps) {
    super(scope, id);
    const client = new DataGoogleClientConfig(this, 'client-config', {});
    const host = `https://${props.cluster.cluster.endpoint}`;
    const clusterCaCertificate = Fn.base64decode(props.cluster.cluster.masterAuth.clusterCaCertificate);
    this.kubernetes = new KubernetesProvider(this, 'kubernetes', { host, token: client.accessToken, clusterCaCertificate });
    this.helm = new HelmProvider(this, 'helm', { kubernetes: { host, token: client.accessToken, clusterCaCertificate } });
  }
}
