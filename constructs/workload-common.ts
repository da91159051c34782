// Validation shared by the workload constructs (orchestrators, serving, transfer, build triggers): container image
// references pinned to a tag or digest, cron schedules, Kubernetes names, time zones.

/** The `sha256:<64 hex>` digest an image reference names (`name@sha256:...` or `name:tag@sha256:...`), or undefined. */
export function imageDigest(image: string): string | undefined {
  return /@(sha256:[0-9a-f]{64})$/.exec(image)?.[1];
}

/**
 * Why an image reference is not pinned, or undefined when it has a non-`latest` tag or a digest. A malformed digest
 * is a reason: `runtime@sha256:abc` must not pass as the tag `abc`.
 */
export function unpinnedImageReason(image: string): string | undefined {
  if (imageDigest(image) !== undefined) return undefined;
  const at = image.indexOf('@');
  if (at >= 0) return `image '${image}' has a malformed digest '${image.slice(at + 1)}' (a digest is sha256: followed by 64 lowercase hex digits)`;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return `image '${image}' has no tag (it means :latest)`;
  const tag = lastSegment.slice(colon + 1);
  if (tag === 'latest') return `image '${image}' uses the tag 'latest'`;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return `image '${image}' has an invalid tag '${tag}'`;
  return undefined;
}

/** A five-field cron expression (minute hour day-of-month month day-of-week), as Argo, Cloud Scheduler and Airflow take it. */
export function isCron(expression: string): boolean {
  const fields = expression.trim().split(/\s+/);
  return fields.length === 5 && fields.every((f) => /^[0-9A-Za-z*/,?-]+$/.test(f));
}

/** An IANA time zone such as `Etc/UTC` or `Europe/Berlin` (shape only). */
export function isTimeZone(tz: string): boolean {
  return tz === 'UTC' || /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)+$/.test(tz);
}

/** A Kubernetes DNS-1123 label (names of deployments, services, namespaces): lowercase, digits, '-', at most 63. */
export function isKubernetesName(name: string): boolean {
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name);
}

/** A Kubernetes resource quantity such as `500m`, `2`, `4Gi`. */
export function isQuantity(q: string): boolean {
  return /^(\d+(\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.test(q);
}

/**
 * Escapes Terraform template sequences in literal text that goes into synthesized JSON (compiled manifests, DAG
 * sources): Terraform would read `${` as an interpolation and `%{` as a directive. Strings holding cdktf tokens are
 * left alone; objects and arrays are escaped deeply.
 */
export function escapeTerraformTemplates<T>(value: T): T {
  if (typeof value === 'string') {
    if (value.includes('${TfToken[')) return value;
    return value.replace(/\$\{/g, '$$$${').replace(/%\{/g, '%%{') as unknown as T;
  }
  if (Array.isArray(value)) return value.map((v) => escapeTerraformTemplates(v)) as unknown as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeTerraformTemplates(v)])) as T;
  }
  return value;
}
