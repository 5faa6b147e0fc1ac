import { hasAnyScope, type VerifiedToken } from '@openpks/auth';
import { ForbiddenError, NotFoundError } from '@openpks/domain';
import { PksScope } from '@openpks/uaa';

/** Who is calling: a verified UAA token, reduced to what authorisation needs. */
export interface Caller {
  /** The owner name clusters are recorded under: `user_name`, or the client id for client tokens. */
  name: string;
  clientId: string;
  scopes: string[];
  token: VerifiedToken;
}

export function callerOf(token: VerifiedToken): Caller {
  return { name: token.userName ?? token.clientId, clientId: token.clientId, scopes: token.scopes, token };
}

const ANY_PKS_SCOPE = [PksScope.CLUSTERS_ADMIN, PksScope.CLUSTERS_ADMIN_READ, PksScope.CLUSTERS_MANAGE];

/**
 * PKS-REFERENCE §3 in one place. `manage` works on its own clusters only (another's cluster is not found,
 * never forbidden), `admin.read` reads everything and changes nothing, `admin` does everything.
 */
export const access = {
  /** Plans and network profiles: any PKS scope may list them. */
  requireAnyPksScope(caller: Caller): void {
    if (!this.hasAnyPksScope(caller)) {
      throw new ForbiddenError(`requires one of the scopes ${ANY_PKS_SCOPE.join(', ')}`);
    }
  },
  hasAnyPksScope(caller: Caller): boolean {
    return hasAnyScope(caller, ANY_PKS_SCOPE);
  },
  readsAll(caller: Caller): boolean {
    return hasAnyScope(caller, [PksScope.CLUSTERS_ADMIN, PksScope.CLUSTERS_ADMIN_READ]);
  },
  changesAll(caller: Caller): boolean {
    return hasAnyScope(caller, [PksScope.CLUSTERS_ADMIN]);
  },
  /** Whether the caller may see a cluster owned by `owner` at all. */
  canSee(caller: Caller, owner: string): boolean {
    if (this.readsAll(caller)) return true;
    return hasAnyScope(caller, [PksScope.CLUSTERS_MANAGE]) && owner === caller.name;
  },
  /** Create, update, resize, upgrade, delete, credentials: admin on any, manage on its own. */
  requireChange(caller: Caller): void {
    if (!hasAnyScope(caller, [PksScope.CLUSTERS_ADMIN, PksScope.CLUSTERS_MANAGE])) {
      throw new ForbiddenError(
        `requires the scope ${PksScope.CLUSTERS_ADMIN} or ${PksScope.CLUSTERS_MANAGE}`,
      );
    }
  },
  /** A cluster the caller may change: admins any, managers their own; others' clusters are not found. */
  requireChangeOf(caller: Caller, cluster: { name: string; owner: string }): void {
    this.requireChange(caller);
    if (!this.changesAll(caller) && cluster.owner !== caller.name) throw clusterNotFound(cluster.name);
  },
  /** Reading everything (operations across clusters): admin or admin.read. */
  requireReadAll(caller: Caller): void {
    if (!this.readsAll(caller)) {
      throw new ForbiddenError(
        `requires the scope ${PksScope.CLUSTERS_ADMIN} or ${PksScope.CLUSTERS_ADMIN_READ}`,
      );
    }
  },
  requireAdmin(caller: Caller): void {
    if (!this.changesAll(caller)) throw new ForbiddenError(`requires the scope ${PksScope.CLUSTERS_ADMIN}`);
  },
};

export function clusterNotFound(name: string): NotFoundError {
  return new NotFoundError(`Cluster ${name} not found`, { details: { cluster: name } });
}
