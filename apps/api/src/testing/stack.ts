import { startTestDirector, type TestDirector } from '@openpks/bosh/testing';
import { startTestBroker, type TestBroker } from '@openpks/broker/testing';
import { testDatabaseBackends, type TestDatabase, type TestDatabaseBackend } from '@openpks/db/testing';
import type { Plan } from '@openpks/domain';
import { startTestUaa, type TestUaa } from '@openpks/uaa/testing';
import { startTestApi, type TestApi, type TestApiOptions } from './index.js';

export interface TestStackOptions {
  /** Default: the first backend (PGlite); tests that run on each pass theirs. */
  backend?: TestDatabaseBackend;
  /** The sim VM range of this stack, e.g. `127.1.70.0/24`: each test file its own. */
  ipRange: string;
  /** The plans the broker offers and the API validates against (default: pks.yaml's built-in ones). */
  plans?: readonly Plan[];
  /** API options beyond the stack's own (UAA, database, broker, Director client). */
  api?: Partial<Omit<TestApiOptions, 'uaa' | 'db' | 'broker'>>;
}

/** The control plane on loopback, one database: UAA, the embedded Director (sim CPI), the broker, the API. */
export interface TestStack {
  db: TestDatabase;
  uaa: TestUaa;
  bosh: TestDirector;
  broker: TestBroker;
  api: TestApi;
  /** Creates a user in `groups` (password `<name>-password-1`) and returns an access token of theirs. */
  signIn(username: string, groups: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestStack(options: TestStackOptions): Promise<TestStack> {
  const db = await (options.backend ?? testDatabaseBackends()[0]!).open();
  const started: { stop(): Promise<unknown> }[] = [];
  const stop = async () => {
    for (const part of started.reverse()) await part.stop();
    await db.close();
  };
  try {
    const uaa = await startTestUaa({ db });
    started.push(uaa);
    const bosh = await startTestDirector({ uaa, db, ipRange: options.ipRange });
    started.push(bosh);
    const broker = await startTestBroker({
      uaa,
      bosh,
      db,
      ...(options.plans ? { plans: options.plans } : {}),
    });
    started.push(broker);
    const api = await startTestApi({
      director: bosh.client,
      ...(options.plans ? { plans: options.plans } : {}),
      ...options.api,
      uaa,
      db,
      broker: { url: broker.url, ...broker.credentials },
    });
    started.push(api);
    return {
      db,
      uaa,
      bosh,
      broker,
      api,
      async signIn(username, groups) {
        const password = `${username}-password-1`;
        await uaa.createUser(username, password, groups);
        return (await uaa.tokenFor({ username, password })).access_token;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
