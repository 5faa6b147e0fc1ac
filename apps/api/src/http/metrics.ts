import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The API's Prometheus metrics, in a registry of its own (several APIs may share a test process). */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'pks_api_graphql_requests_total',
    help: 'GraphQL operations by type and outcome',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: 'pks_api_graphql_request_duration_seconds',
    help: 'GraphQL operation latency',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  readonly operations = new Counter({
    name: 'pks_api_cluster_operations_total',
    help: 'Cluster operations finished, by kind and final state',
    labelNames: ['kind', 'state'] as const,
    registers: [this.registry],
  });
  readonly operationSeconds = new Histogram({
    name: 'pks_api_cluster_operation_duration_seconds',
    help: 'Cluster operation duration from request to final state',
    labelNames: ['kind'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });
  readonly restRequests = new Counter({
    name: 'pks_api_rest_requests_total',
    help: 'PKS v1 REST requests by route (method and path pattern) and HTTP status',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly answerCache = new Counter({
    name: 'pks_api_answer_cache_total',
    help: 'Cacheable queries by result: hit (served from the answer cache), miss (executed), stored',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly trackerPolls = new Counter({
    name: 'pks_api_tracker_last_operation_polls_total',
    help: 'last_operation polls made by the operation tracker',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
