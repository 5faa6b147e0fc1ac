import { InputError } from '@openpks/domain';
import type { OperationState } from './operationData.js';

/**
 * The OSB API (v2.17) as the PKS API and the broker speak it: the requests the platform sends and the
 * answers it reads. Fields are OSB's names (snake_case on the wire).
 */

/** The version every client of this contract sends in `X-Broker-API-Version`. */
export const OSB_API_VERSION = '2.17';

/** `X-Broker-API-Originating-Identity`: who asked, as a platform and its identity JSON. */
export interface OriginatingIdentity {
  platform: string;
  value: Record<string, unknown>;
}

/** The header value for an identity: `<platform> <base64 of the JSON>`. */
export function originatingIdentityHeader(identity: OriginatingIdentity): string {
  return `${identity.platform} ${Buffer.from(JSON.stringify(identity.value)).toString('base64')}`;
}

/** Reads the header; a malformed one is bad input (400). */
export function parseOriginatingIdentity(header: string | undefined): OriginatingIdentity | undefined {
  if (header === undefined || header === '') return undefined;
  const match = /^(\S+)\s+(\S+)$/.exec(header.trim());
  if (!match)
    throw new InputError('X-Broker-API-Originating-Identity', 'must be "<platform> <base64-encoded JSON>"');
  try {
    const value = JSON.parse(Buffer.from(match[2]!, 'base64').toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return { platform: match[1]!, value: value as Record<string, unknown> };
  } catch {
    throw new InputError(
      'X-Broker-API-Originating-Identity',
      'the identity value must be base64-encoded JSON',
    );
  }
}

/** `GET /v2/catalog`, the parts a platform reads. */
export interface OsbCatalog {
  services: {
    id: string;
    name: string;
    plans: { id: string; name: string; description?: string; metadata?: Record<string, unknown> }[];
  }[];
}

/** `PUT /v2/service_instances/:id` body. */
export interface OsbProvisionRequest {
  service_id: string;
  plan_id: string;
  organization_guid: string;
  space_guid: string;
  context?: Record<string, unknown>;
  parameters?: Record<string, unknown>;
}

/** `PATCH /v2/service_instances/:id` body (an upgrade is an update with `maintenance_info`). */
export interface OsbUpdateRequest {
  service_id: string;
  plan_id?: string;
  context?: Record<string, unknown>;
  parameters?: Record<string, unknown>;
  previous_values?: { plan_id?: string };
  maintenance_info?: { version: string };
}

/** `PUT /v2/service_instances/:id/service_bindings/:bid` body. */
export interface OsbBindRequest {
  service_id: string;
  plan_id: string;
  context?: Record<string, unknown>;
  /** The PKS API's OIDC binding: all four; a generic platform sends none (a client certificate). */
  parameters?: { user_name: string; id_token: string; refresh_token: string; cluster_name?: string };
}

/** A 200/201/202 answer to provision, update or deprovision. */
export interface OsbAsyncResponse {
  /** ODB's operation data as a string (see `OperationData`); absent when nothing was started. */
  operation?: string;
  dashboard_url?: string;
}

/** `GET /v2/service_instances/:id/last_operation` answer. */
export interface OsbLastOperation {
  state: OperationState;
  description: string;
  instance_usable?: boolean;
  update_repeatable?: boolean;
}

/** `PUT …/service_bindings/:bid` answer (synchronous bindings). */
export interface OsbBindResponse {
  credentials: Record<string, unknown>;
}

/** Every refusal: OSB's error code (`ConcurrencyError`, `AsyncRequired`, …) and the reason in words. */
export interface OsbErrorBody {
  error?: string;
  description: string;
}
