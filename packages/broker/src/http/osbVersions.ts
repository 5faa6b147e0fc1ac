/**
 * What each version of the Open Service Broker API defines, for answering a platform in its own version:
 * strict platforms (2.13 clients among them) reject fields their version does not know. Sources: the
 * `release-notes.md` and `spec.md` of openservicebrokerapi/servicebroker at tags v2.13 … v2.17.
 */

/** The oldest version the broker speaks: 2.13 brought `schemas` and the originating identity header. */
export const MIN_MINOR_VERSION = 13;
/** The newest version whose fields the broker knows; a newer request is answered as this one. */
export const MAX_MINOR_VERSION = 17;

/**
 * Fields of broker responses added after 2.13, by the object they sit in: field → the minor version that
 * introduced it. A field not listed here is in 2.13 (or is not sent by this broker at all).
 */
export const FIELDS_SINCE = {
  service: { instances_retrievable: 14, bindings_retrievable: 14, allow_context_updates: 16 },
  plan: { plan_updateable: 15, maximum_polling_duration: 15, maintenance_info: 15, binding_rotatable: 17 },
  provision: { metadata: 16 },
  update: { dashboard_url: 14, metadata: 16 },
  lastOperation: { instance_usable: 16, update_repeatable: 16 },
  instance: { maintenance_info: 15, metadata: 16 },
  bind: { operation: 14, endpoints: 15, metadata: 16 },
  binding: { endpoints: 15, metadata: 16 },
  error: { instance_usable: 16, update_repeatable: 16 },
} as const satisfies Record<string, Record<string, number>>;

export type OsbObject = keyof typeof FIELDS_SINCE;

/** Endpoints added after 2.13: an older platform asking for one gets 412 (it needs a newer version). */
export const ENDPOINTS_SINCE = {
  'GET /v2/service_instances/:instance_id': 14,
  'GET /v2/service_instances/:instance_id/service_bindings/:binding_id': 14,
  'GET /v2/service_instances/:instance_id/service_bindings/:binding_id/last_operation': 14,
} as const;

/** Response headers added after 2.13. */
export const HEADERS_SINCE = { 'X-Broker-API-Request-Identity': 15, 'Retry-After': 15 } as const;

/** `X-Broker-API-Version: 2.x` → x; undefined for a missing or malformed header. */
export function minorVersionOf(header: string | undefined): number | undefined {
  const match = header === undefined ? null : /^2\.(\d{1,3})$/.exec(header.trim());
  return match === null ? undefined : Number(match[1]);
}

/** The object without the fields `version` does not define. */
export function forVersion<T extends Record<string, unknown>>(kind: OsbObject, body: T, version: number): T {
  const since: Record<string, number> = FIELDS_SINCE[kind];
  const kept = Object.entries(body).filter(([field]) => (since[field] ?? 0) <= version);
  return Object.fromEntries(kept) as T;
}

/** The catalog as `version` defines it: services and their plans filtered field by field. */
export function catalogForVersion(catalog: { services: Record<string, unknown>[] }, version: number) {
  return {
    services: catalog.services.map((service) => {
      const kept = forVersion('service', service, version);
      const plans = Array.isArray(service.plans) ? (service.plans as Record<string, unknown>[]) : [];
      return { ...kept, plans: plans.map((plan) => forVersion('plan', plan, version)) };
    }),
  };
}

/** Response headers `version` defines. */
export function headersForVersion(headers: Record<string, string>, version: number): Record<string, string> {
  const since: Record<string, number> = HEADERS_SINCE;
  return Object.fromEntries(Object.entries(headers).filter(([name]) => (since[name] ?? 0) <= version));
}
