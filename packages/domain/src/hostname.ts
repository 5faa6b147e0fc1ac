import { InputError } from './errors.js';

// Node's own `net.isIPv4` pattern (dotted quad, no leading zeros), kept here so the domain has no Node
// import and runs in the console's browser code too.
const IPV4_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const IPV4 = new RegExp(`^(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET}$`);
const isIPv4 = (value: string) => IPV4.test(value);

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * The external hostname of a cluster's Kubernetes API (`pks create-cluster -e`): an RFC 1123 DNS name or
 * an IPv4 address. It ends up in the master certificate's SANs and the kubeconfig's `server`.
 */
export function validateHostname(hostname: unknown, field = 'externalHostname'): string {
  const allowed = 'a DNS name (labels of letters, digits and -, at most 253 characters) or an IPv4 address';
  if (typeof hostname !== 'string' || hostname.length === 0) {
    throw new InputError(field, 'hostname is required', { allowed });
  }
  if (isIPv4(hostname)) return hostname;
  if (/^[0-9.]+$/.test(hostname)) {
    throw new InputError(field, `"${hostname}" is not a valid IPv4 address`, { allowed });
  }
  if (hostname.length > 253) {
    throw new InputError(field, `hostname is ${hostname.length} characters long`, { allowed });
  }
  const labels = hostname.replace(/\.$/, '').split('.');
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    const why =
      bad.length === 0
        ? 'has an empty label'
        : bad.length > 63
          ? `has a label longer than 63 characters ("${bad.slice(0, 20)}…")`
          : `has an invalid label "${bad}"`;
    throw new InputError(field, `hostname "${hostname}" ${why}`, { allowed });
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) {
    throw new InputError(field, `hostname "${hostname}" has an all-numeric top-level label`, { allowed });
  }
  return hostname.toLowerCase();
}
