import type { PksConfig, Role } from '@openpks/config';
import type { Endpoints } from '@openpks/role';

/**
 * Roles started in this process are reached at their bound URL; roles running elsewhere at their
 * `roles.<role>.url`, or else at `https://<external_host>:<configured port>` (one host for all).
 */
export class ProcessEndpoints implements Endpoints {
  private readonly bound = new Map<Role, string>();

  constructor(private readonly config: PksConfig) {}

  register(role: Role, url: string): void {
    this.bound.set(role, url.replace(/\/$/, ''));
  }

  url(role: Role): string {
    return this.bound.get(role) ?? this.elsewhere(role).url;
  }

  /** Where a role that does not run in this process is reached, and which setting says so. */
  elsewhere(role: Role): { url: string; source: string } {
    const configured = this.config.roles[role].url;
    if (configured !== undefined) return { url: configured, source: `roles.${role}.url` };
    const host = this.config.externalHost;
    return {
      url: `https://${host.includes(':') ? `[${host}]` : host}:${this.config.roles[role].port}`,
      source: `external_host and roles.${role}.port`,
    };
  }
}
