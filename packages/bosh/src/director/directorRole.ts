import { discoverUaaIssuer } from '@openpks/auth';
import type { PksConfig, SimSettings } from '@openpks/config';
import { Role } from '@openpks/config';
import type { RoleDeps, RoleModule, RunningRole } from '@openpks/role';
import { EmbeddedDirector, type SimOptions } from './embeddedDirector.js';

export interface DirectorRoleOptions {
  /** Sim CPI knobs over pks.yaml's `director.sim` (tests set errand outcomes, IP ranges, faults). */
  sim?: SimOptions;
}

/** The sim settings of pks.yaml (`director.sim`) as the embedded Director takes them. */
export function simOptionsOf(sim: SimSettings): SimOptions {
  return {
    ipRange: sim.ipRange,
    latencyMs: sim.latencyMs,
    kubePort: sim.kubePort,
    cpiTimeoutMs: sim.cpiTimeoutMs,
    faults: sim.faults,
  };
}

/**
 * The `director` role of pks-server: the embedded BOSH Director with the sim CPI. With a remote Director
 * configured it starts nothing and reports where the remote one is.
 */
export function createDirectorRole(options: DirectorRoleOptions = {}): RoleModule {
  return {
    name: Role.DIRECTOR,
    after: [Role.UAA],
    async start(config: PksConfig, deps: RoleDeps): Promise<RunningRole> {
      if (config.director.type === 'remote') {
        const url = config.director.url;
        return { url, banner: { director: `remote BOSH Director at ${url}` }, stop: async () => undefined };
      }
      const uaaUrl = deps.endpoints.url(Role.UAA);
      const director = await EmbeddedDirector.start({
        db: deps.db,
        secrets: deps.secrets,
        logger: deps.logger,
        credentials: await deps.tls.serverCredentials(Role.DIRECTOR),
        host: config.roles.director.host,
        port: config.roles.director.port,
        uaa: {
          url: uaaUrl,
          issuer: await discoverUaaIssuer(uaaUrl, { ca: deps.tls.caPem }),
          ca: deps.tls.caPem,
        },
        workers: config.director.workers,
        sim: { ...simOptionsOf(config.director.sim), ...options.sim },
      });
      return {
        url: director.url,
        banner: { director: `${director.url} (embedded, sim CPI, VM IPs ${director.cpi.ipRange})` },
        stop: () => director.stop(),
      };
    },
  };
}

export const directorRole: RoleModule = createDirectorRole();
