import { UnauthenticatedError } from '@openpks/domain';
import type { DirectorClient } from '@openpks/bosh';
import type { PubSub } from '@openpks/db';
import type { Caller } from '../services/access.js';
import type { ClusterFeed } from '../services/clusterFeed.js';
import type { ClusterQueries } from '../services/clusterQueries.js';
import type { ClusterService } from '../services/clusterService.js';
import type { OperationService } from '../services/operationService.js';
import type { NetworkProfileService } from '../services/networkProfileService.js';
import type { QuotaService } from '../services/quotaService.js';
import type { TaskService } from '../services/taskService.js';
import type { AuditRecord } from '../store/auditStore.js';

export interface Services {
  /** Reads of plans and clusters. */
  clusters: ClusterQueries;
  /** Changes to clusters (each an operation). */
  changes: ClusterService;
  /** The fleet feed (`clusterFeed`). */
  feed: ClusterFeed;
  /** Retry and abandon of stuck operations (admins). */
  operations: OperationService;
  networkProfiles: NetworkProfileService;
  /** Quotas and usage. */
  quotas: QuotaService;
  tasks: TaskService;
  pubsub: PubSub;
  auditEvents: (caller: Caller, limit: number) => Promise<AuditRecord[]>;
  /** Read-only Director access (cluster VMs); absent when the API is deployed without it. */
  director?: DirectorClient | undefined;
}

/** What every resolver gets: the verified caller (if any) and the services. */
export interface ApiContext {
  caller: Caller | undefined;
  /** Why the presented token was refused, to report instead of a generic "log in". */
  authError?: Error | undefined;
  services: Services;
}

export function requireCaller(ctx: ApiContext): Caller {
  if (ctx.caller === undefined)
    throw ctx.authError ?? new UnauthenticatedError('a UAA bearer token is required');
  return ctx.caller;
}
