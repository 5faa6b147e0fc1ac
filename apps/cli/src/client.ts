import { createClient, type Client } from 'graphql-ws';
import { WebSocket } from 'ws';
import { exitCodeOf, type BadInput } from '@openpks/domain';
import { writeCreds, type Creds } from './creds.js';
import {
  BadInputError,
  CliError,
  NOT_LOGGED_IN_MESSAGE,
  PRIVILEGES_MESSAGE,
  userFieldOf,
  type FieldNames,
} from './errors.js';
import { httpsCall, tlsOptions, type TlsTrust } from './http.js';
import type { Operation } from './operations.js';
import { grantToken } from './uaa.js';

interface GraphQLError {
  message: string;
  extensions?: { code?: string; field?: unknown; allowed?: unknown; fields?: unknown };
}

/** `-a api.example.com` means `https://api.example.com:9021`, PKS's API port (PKS-REFERENCE §0). */
export function normalizeApi(api: string): string {
  const withScheme = /^https?:\/\//.test(api) ? api : `https://${api}`;
  const url = new URL(withScheme);
  if (url.port === '' && !/^https?:\/\/[^/]+:\d+/.test(withScheme)) url.port = '9021';
  return url.origin;
}

/**
 * Maps an API error to PKS's words: a scope refusal reads as in PKS 1.6. A quota refusal says which
 * limit, the usage and the request (PKS 1.6 said only "not enough privileges", which sent users to the
 * wrong fix); it exits 1 like every failed operation. Bad input is
 * re-said field by field with the command's own names for the fields (`names`), and exits 2 like a
 * usage mistake; every other code exits as the domain's table says.
 */
export function cliErrorOf(error: GraphQLError, names: FieldNames = {}): CliError {
  const code = error.extensions?.code;
  if (code === 'FORBIDDEN') return new CliError(PRIVILEGES_MESSAGE);
  if (code === 'UNAUTHENTICATED') return new CliError(NOT_LOGGED_IN_MESSAGE);
  if (code === 'BAD_USER_INPUT') {
    const inputs = badInputsOf(error);
    if (inputs.length === 0) return new CliError(error.message, exitCodeOf(code));
    return new BadInputError(inputs.map((i) => ({ ...i, field: userFieldOf(i.field, names) })));
  }
  return new CliError(error.message, exitCodeOf(code ?? 'INTERNAL'));
}

/** The bad fields an answer names (`extensions.fields`, each with the reason alone), in its order. */
function badInputsOf(error: GraphQLError): BadInput[] {
  const { fields, field, allowed } = error.extensions ?? {};
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  if (Array.isArray(fields)) {
    return (fields as { field?: unknown; message?: unknown; allowed?: unknown }[]).map((f) => ({
      field: text(f.field),
      reason: text(f.message) ?? error.message,
      allowed: text(f.allowed),
    }));
  }
  // An API that names the field without a list: its message is the reason alone.
  return typeof field === 'string' ? [{ field, reason: error.message, allowed: text(allowed) }] : [];
}

/**
 * The logged-in user's view of the API: typed operations over HTTPS, subscriptions over WSS, and a silent
 * token refresh (once per call) when the API says the access token is no longer good.
 */
export class ApiClient {
  #creds: Creds;
  readonly #env: NodeJS.ProcessEnv;

  constructor(creds: Creds, env: NodeJS.ProcessEnv) {
    this.#creds = creds;
    this.#env = env;
  }

  get creds(): Creds {
    return this.#creds;
  }

  get trust(): TlsTrust {
    return {
      ...(this.#creds.caCert ? { ca: this.#creds.caCert } : {}),
      ...(this.#creds.skipSslValidation ? { insecure: true } : {}),
    };
  }

  /** Runs one operation; `names` says how the command's user knows the input fields (see FieldNames). */
  async run<TData, TVars>(
    op: Operation<TData, TVars>,
    variables: TVars,
    names: FieldNames = {},
  ): Promise<TData> {
    let result = await this.#post(op.toString(), variables);
    if (result.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
      await this.refresh();
      result = await this.#post(op.toString(), variables);
    }
    if (result.errors?.length) throw cliErrorOf(result.errors[0]!, names);
    if (!result.data) throw new CliError('the API answered without data');
    return result.data as TData;
  }

  async #post(document: string, variables: unknown): Promise<{ data?: unknown; errors?: GraphQLError[] }> {
    const res = await httpsCall(
      `${this.#creds.api}/graphql`,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${this.#creds.accessToken}`,
        },
        body: JSON.stringify({ query: document, variables }),
      },
      this.trust,
    );
    try {
      return JSON.parse(res.body) as { data?: unknown; errors?: GraphQLError[] };
    } catch {
      throw new CliError(`the API answered ${res.status}: ${res.body.slice(0, 200)}`);
    }
  }

  /** New access token from the refresh token (or a new client grant), saved so the next command has it. */
  async refresh(): Promise<void> {
    const c = this.#creds;
    let tokens;
    try {
      tokens =
        c.refreshToken !== undefined
          ? await grantToken(
              c.uaa,
              {
                kind: 'refresh_token',
                refreshToken: c.refreshToken,
                clientId: c.clientId,
                ...(c.clientSecret ? { clientSecret: c.clientSecret } : {}),
              },
              this.trust,
            )
          : c.clientSecret !== undefined
            ? await grantToken(
                c.uaa,
                { kind: 'client_credentials', clientId: c.clientId, clientSecret: c.clientSecret },
                this.trust,
              )
            : undefined;
    } catch {
      tokens = undefined;
    }
    if (!tokens) throw new CliError(NOT_LOGGED_IN_MESSAGE);
    this.#creds = {
      ...c,
      accessToken: tokens.accessToken,
      ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
    };
    await writeCreds(this.#env, this.#creds);
  }

  /**
   * A graphql-ws client over WSS trusting the login CA; the caller disposes it. `retryAttempts: 0` is for
   * callers that reconnect themselves: graphql-ws would resend the first subscribe message as it was.
   */
  wsClient(
    on: { connected?: () => void; closed?: (event: unknown) => void } = {},
    options: { retryAttempts?: number } = {},
  ): Client {
    const trust = tlsOptions(this.trust);
    return createClient({
      url: `${this.#creds.api.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, trust);
        }
      },
      // Read at connect time, so a token refreshed by an earlier call is the one sent.
      connectionParams: () => ({ authorization: `Bearer ${this.#creds.accessToken}` }),
      retryAttempts: options.retryAttempts ?? 3,
      lazy: true,
      on,
    });
  }

  /**
   * Subscribes at once and buffers what arrives. `ready` settles when the API has acknowledged the
   * connection and the subscribe message is on the wire, so a read made after it cannot miss an event that
   * the subscription would then not deliver (the caller's read, then the buffered events, see everything).
   * `events` yields until the stream ends or `close()`; errors arrive in PKS's words.
   */
  watch<TData, TVars>(op: Operation<TData, TVars>, variables: TVars): Subscription<TData> {
    let connected!: () => void;
    let failed!: (error: CliError) => void;
    const ready = new Promise<void>((resolve, reject) => {
      connected = resolve;
      failed = reject;
    });
    // A failure before `ready` is reported through `ready`; after it, through `events`.
    ready.catch(() => undefined);
    const ws = this.wsClient({
      // graphql-ws sends the subscribe message in the tick after the ack: let it go out first.
      connected: () => setImmediate(connected),
    });
    const queue: TData[] = [];
    let end: { error?: CliError } | undefined;
    let wake = () => {};
    const settle = (outcome: { error?: CliError }) => {
      end ??= outcome;
      if (outcome.error) failed(outcome.error);
      wake();
    };
    const dispose = ws.subscribe<TData>(
      { query: op.toString(), variables: variables as Record<string, unknown> },
      {
        next: (value) => {
          if (value.errors?.length) return settle({ error: cliErrorOf(value.errors[0] as GraphQLError) });
          if (value.data) queue.push(value.data as TData);
          wake();
        },
        // Called once graphql-ws has given up (after its retries), with a close event or an error.
        error: (error) => settle({ error: streamError(error) }),
        complete: () => settle({}),
      },
    );
    let closing: Promise<void> | undefined;
    const close = () => {
      settle({});
      closing ??= (async () => {
        dispose();
        await ws.dispose();
      })();
      return closing;
    };
    async function* events(): AsyncGenerator<TData> {
      try {
        for (;;) {
          while (queue.length) yield queue.shift()!;
          if (end) {
            if (end.error) throw end.error;
            return;
          }
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        await close();
      }
    }
    return { ready, events: events(), close };
  }
}

/** A live subscription: see `ApiClient.watch`. */
export interface Subscription<TData> {
  ready: Promise<void>;
  events: AsyncGenerator<TData>;
  close(): Promise<void>;
}

function streamError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  // graphql-ws reports an operation the API refused (a cluster not found…) as its list of GraphQL errors.
  if (Array.isArray(error) && typeof (error[0] as GraphQLError | undefined)?.message === 'string') {
    return cliErrorOf(error[0] as GraphQLError);
  }
  const e = error as { code?: number; reason?: string; message?: string };
  return new CliError(`lost the event stream: ${e.reason || e.message || String(e.code ?? error)}`);
}
