import { createHash } from 'node:crypto';
import type {
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLObjectType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
} from 'graphql';
import { graphql } from '../graphql/graphqlRealm.js';
import { OBSERVED_FIELDS } from '../graphql/selection.js';
import type { Caller } from '../services/access.js';

/**
 * The channel the api schema's triggers (migration 0005) notify on after any write to a table a cached
 * answer may have read, from any replica and any code path (the tracker, mutations, seeding scripts).
 */
export const READS_CHANGED_CHANNEL = 'api_reads_changed';

/**
 * Root fields whose answers are a function of the caller and of the tables migration 0005 watches
 * (clusters, cluster_events, cluster_networks, network_profiles) or of configuration fixed at start-up
 * (plans, the PKS version). A root added here must read nothing else, or its answers go stale.
 */
const CACHEABLE_ROOTS = new Set([
  'clusters',
  'cluster',
  'clustersConnection',
  'plans',
  'plan',
  'networkProfiles',
  'networkProfile',
  'pksVersion',
]);

/** Fields that read live state outside those tables (the Director's VMs), wherever they appear. */
const LIVE_FIELDS = new Set(['Cluster.nodes']);

/**
 * Fields that read the Director under one root only: `cluster(name)` reads its status from the Director
 * when asked for status or conditions (lists show them as last observed, from the tables).
 */
const LIVE_UNDER_ROOT: Readonly<Record<string, ReadonlySet<string>>> = {
  cluster: new Set([...OBSERVED_FIELDS].map((field) => `Cluster.${field}`)),
};

const { getNamedType, isObjectType, Kind } = graphql;

export interface CachedAnswer {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

interface Entry extends CachedAnswer {
  readonly storedAt: number;
}

export interface AnswerCacheOptions {
  /** Entries kept (least recently used go first). */
  maxEntries?: number;
  /** Bytes of answers kept. */
  maxBytes?: number;
  /**
   * Longest an answer is served without a change notice: the backstop for notices lost while the
   * database's LISTEN connection reconnects. Changes normally invalidate within milliseconds.
   */
  maxAgeMs?: number;
  now?: () => number;
}

/** What a GraphQL-over-HTTP POST body asked for, as far as the cache needs it. */
export interface GraphQLRequestBody {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

/**
 * Serialised answers of read-only queries, per caller: a list of 1,000 clusters costs tens of ms to
 * read, execute and serialise, and the same bytes are valid until the next write to the tables the query
 * reads. Any such write (a notice on READS_CHANGED_CHANNEL, or a mutation through this replica) clears
 * every entry; a query that was executing across a change is not stored (generation check). Entries are
 * keyed by the caller's name, client and scopes (what authorisation looks at) and the request's text,
 * so one caller never sees an answer computed for another. Only complete answers without errors are kept.
 */
export class AnswerCache {
  readonly #schema: GraphQLSchema;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #documents = new Map<string, boolean>();
  #bytes = 0;
  #generation = 0;
  #enabled = false;

  constructor(schema: GraphQLSchema, options: AnswerCacheOptions = {}) {
    this.#schema = schema;
    this.#maxEntries = options.maxEntries ?? 256;
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#maxAgeMs = options.maxAgeMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Answers are served only while change notices are being received. */
  enable(): void {
    this.invalidate();
    this.#enabled = true;
  }

  disable(): void {
    this.#enabled = false;
    this.invalidate();
  }

  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#entries.size;
  }

  invalidate(): void {
    this.#generation++;
    this.#entries.clear();
    this.#bytes = 0;
  }

  /** The key of a request whose answer may be cached, or undefined when it must be executed every time. */
  keyOf(body: GraphQLRequestBody, caller: Caller): string | undefined {
    if (!this.#enabled) return undefined;
    const { query, operationName, variables, extensions } = body;
    if (typeof query !== 'string') return undefined;
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string')
      return undefined;
    if (extensions !== undefined && extensions !== null) return undefined;
    const documentKey = `${operationName ?? ''}\u0000${query}`;
    let cacheable = this.#documents.get(documentKey);
    if (cacheable === undefined) {
      cacheable = this.#analyse(query, operationName ?? undefined);
      // The documents clients send are few; a flood of distinct ones must not grow this without bound.
      if (this.#documents.size >= 1_000) this.#documents.clear();
      this.#documents.set(documentKey, cacheable);
    }
    if (!cacheable) return undefined;
    const who = [caller.name, caller.clientId, [...caller.scopes].sort().join(' ')].join('\u0000');
    return createHash('sha256')
      .update(who)
      .update('\u0001')
      .update(documentKey)
      .update('\u0001')
      .update(JSON.stringify(variables ?? null))
      .digest('base64');
  }

  get(key: string): CachedAnswer | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (this.#now() - entry.storedAt > this.#maxAgeMs) {
      this.#bytes -= entry.body.length;
      return undefined;
    }
    this.#entries.set(key, entry);
    return entry;
  }

  /** Keeps an answer computed while the cache was at `generation`; a change since then discards it. */
  set(key: string, generation: number, answer: CachedAnswer): boolean {
    if (!this.#enabled || generation !== this.#generation) return false;
    if (answer.body.length > this.#maxBytes / 4) return false;
    const previous = this.#entries.get(key);
    if (previous !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= previous.body.length;
    }
    this.#entries.set(key, { ...answer, storedAt: this.#now() });
    this.#bytes += answer.body.length;
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.body.length;
    }
    return true;
  }

  /** Whether the operation is a query made only of cacheable roots, with no live field at any depth. */
  #analyse(query: string, operationName: string | undefined): boolean {
    let document: DocumentNode;
    try {
      document = graphql.parse(query);
    } catch {
      return false; // Apollo answers the syntax error.
    }
    const operations = document.definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    const operation =
      operationName === undefined
        ? operations.length === 1
          ? operations[0]
          : undefined
        : operations.find((o) => o.name?.value === operationName);
    if (operation === undefined || operation.operation !== 'query') return false;
    const queryType = this.#schema.getQueryType();
    if (!queryType) return false;
    const fragments = new Map(
      document.definitions
        .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((f) => [f.name.value, f]),
    );
    const visiting = new Set<string>();
    let root = '';
    const walk = (selectionSet: SelectionSetNode, type: GraphQLObjectType): boolean => {
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          if (name === '__typename') continue;
          if (type === queryType) {
            if (!CACHEABLE_ROOTS.has(name)) return false;
            root = name;
          }
          if (LIVE_FIELDS.has(`${type.name}.${name}`)) return false;
          if (LIVE_UNDER_ROOT[root]?.has(`${type.name}.${name}`)) return false;
          const field = type.getFields()[name];
          if (field === undefined) return false;
          if (selection.selectionSet) {
            const fieldType = getNamedType(field.type);
            if (!isObjectType(fieldType) || !walk(selection.selectionSet, fieldType)) return false;
          }
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const on = selection.typeCondition
            ? this.#schema.getType(selection.typeCondition.name.value)
            : type;
          if (on !== type || !walk(selection.selectionSet, type)) return false;
        } else {
          const fragment = fragments.get(selection.name.value);
          if (fragment === undefined || visiting.has(fragment.name.value)) return false;
          if (this.#schema.getType(fragment.typeCondition.name.value) !== type) return false;
          visiting.add(fragment.name.value);
          const ok = walk(fragment.selectionSet, type);
          visiting.delete(fragment.name.value);
          if (!ok) return false;
        }
      }
      return true;
    };
    return walk(operation.selectionSet, queryType);
  }
}
