import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenVerifier } from '@openpks/auth';
import type { DirectorClient } from '@openpks/bosh';
import { migrate, type Database } from '@openpks/db';
import type { Plan } from '@openpks/domain';
import type { SecretBox, ServerCredentials } from '@openpks/pki';
import { listenHttps, type HttpsListener, type Logger } from '@openpks/role';
import type { OidcSettings, ServiceDeployment } from './adapter/types.js';
import { createOsbHandler } from './http/osbHandler.js';
import { loadOrCreateClientCa } from './bindings/clientCa.js';
import { OperationDriver, type OperationDriverOptions } from './operations/operationDriver.js';
import { BindingService } from './service/bindingService.js';
import { BrokerService, type ClusterCaSource } from './service/brokerService.js';
import { brokerMigrations } from './store/migrations.js';
import { UpgradeRuns, type UpgradeRunDefaults } from './upgrades/upgradeRuns.js';

export interface BrokerOptions {
  db: Database;
  director: DirectorClient;
  plans: readonly Plan[];
  oidc: OidcSettings;
  secrets: SecretBox;
  clusterCa: ClusterCaSource;
  idTokenVerifier?: TokenVerifier | undefined;
  /** HTTP Basic credentials the platform uses. */
  credentials: { username: string; password: string };
  tls: ServerCredentials;
  host?: string;
  /** Default 8080; tests pass 0. */
  port?: number;
  logger: Logger;
  serviceDeployment?: ((instanceId: string) => ServiceDeployment) | undefined;
  resolves?: ((hostname: string) => Promise<boolean>) | undefined;
  upgrades?: { holder?: string; leaseMs?: number; scanMs?: number; defaults?: Partial<UpgradeRunDefaults> };
  /** How this broker drives its operations (tests shorten the lease and the scan). */
  operations?: Omit<OperationDriverOptions, 'db' | 'director' | 'logger'>;
}

/** The running broker: its schema migrated, the OSB and management API on HTTPS, operations and upgrade runs driven. */
export class Broker {
  private constructor(
    readonly service: BrokerService,
    readonly bindings: BindingService,
    readonly upgrades: UpgradeRuns,
    readonly operations: OperationDriver,
    readonly listener: HttpsListener,
  ) {}

  static async start(options: BrokerOptions): Promise<Broker> {
    await migrate(options.db, { schema: 'broker', migrations: brokerMigrations, logger: undefined });
    const clientCa = await loadOrCreateClientCa(options.db, options.secrets);
    const operations = new OperationDriver({
      db: options.db,
      director: options.director,
      logger: options.logger,
      ...options.operations,
    });
    const service = new BrokerService({ ...options, driver: operations, clientCa: clientCa.certificatePem });
    const bindings = new BindingService({ ...options, clientCa, instances: service });
    const upgrades = new UpgradeRuns({
      db: options.db,
      service,
      logger: options.logger,
      ...options.upgrades,
    });
    const handler = createOsbHandler({
      service,
      bindings,
      upgrades,
      credentials: options.credentials,
      logger: options.logger,
    });
    // Operations a stopped broker left are taken up before the first request is served.
    operations.start();
    let listener: HttpsListener;
    try {
      listener = await listenHttps({
        role: 'broker',
        host: options.host ?? '127.0.0.1',
        port: options.port ?? 8080,
        credentials: options.tls,
        handler: (req: IncomingMessage, res: ServerResponse) => handler(req, res),
        logger: options.logger,
        healthChecks: { database: async () => void (await options.db.query('SELECT 1')) },
        drainTimeoutMs: 2_000,
      });
    } catch (error) {
      await operations.stop();
      throw error;
    }
    upgrades.resume();
    options.logger.info({ url: listener.url, holder: operations.holder }, 'PKS broker started');
    return new Broker(service, bindings, upgrades, operations, listener);
  }

  get url(): string {
    return this.listener.url;
  }

  /**
   * Graceful stop: upgrade runs, then requests, then the operations' driving (a request in flight hands its
   * operation to the driver). `release: false` leaves the leases to expire, as a crash would.
   */
  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    await this.upgrades.stop({ release });
    await this.listener.close();
    await this.operations.stop({ release });
  }
}
