import { InputError } from '@openpks/domain';
import type { BrokerClient, OsbCatalog } from '@openpks/broker';

/**
 * The broker's catalog, fetched once and kept (the OSB way to learn the service and plan ids that every
 * request names); a failed fetch is forgotten, so the next request asks again.
 */
export class BrokerCatalog {
  readonly #broker: Pick<BrokerClient, 'catalog'>;
  #catalog: Promise<OsbCatalog> | undefined;

  constructor(broker: Pick<BrokerClient, 'catalog'>) {
    this.#broker = broker;
  }

  /** The broker's ids for a plan; a plan the broker does not offer is bad input naming `planName`. */
  async ids(planName: string): Promise<{ serviceId: string; planId: string }> {
    this.#catalog ??= this.#broker.catalog();
    let catalog: OsbCatalog;
    try {
      catalog = await this.#catalog;
    } catch (error) {
      this.#catalog = undefined;
      throw error;
    }
    for (const service of catalog.services) {
      const plan = service.plans.find((p) => p.name === planName);
      if (plan) return { serviceId: service.id, planId: plan.id };
    }
    throw new InputError('planName', `the broker offers no plan "${planName}"`);
  }
}
