import type { PksConfig, Role } from '@openpks/config';
import type { Endpoints } from '@openpks/role';

/**
 * Roles started in this process are reached at their bound URL; roles running elsewhere at
 * `https://<external_host>:<configured port>` (the distributed deployment's convention).
 */
export class ProcessEndpoints implements Endpoints {
  private readonly bound = new Map<Role, string>();

  constructor(private readonly config: PksConfig) {}

  register(role: Role, url: string): void {
    this.bound.set(role, url.replace(/\/$/, ''));
  }

  url(role: Role): string {
    const bound = this.bound.get(role);
    if (bound) return bound;
    const host = this.config.externalHost;
    return `https://${host.includes(':') ? `[${host}]` : host}:${this.config.roles[role].port}`;
  }
}
