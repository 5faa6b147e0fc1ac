import type {
  ASTVisitor,
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLField,
  GraphQLNamedType,
  GraphQLOutputType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
} from 'graphql';
import { InputError, describeInputError, errorExtensionsOf, type Plan } from '@openpks/domain';
import { graphql } from '../graphql/graphqlRealm.js';
import { MAX_EVENTS_LIMIT } from '../graphql/resolvers.js';
import { ConditionType } from '../clusters/conditions.js';
import { MAX_CLUSTER_PAGE } from '../services/clusterQueries.js';
import { MAX_LISTED_OPERATIONS } from '../services/operationService.js';
import { MAX_LISTED_QUOTAS } from '../services/quotaService.js';
import { MAX_LISTED_TASKS } from '../services/taskService.js';

const {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  getVariableValues,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  valueFromAST,
} = graphql;

export interface QueryLimits {
  /** Deepest nesting of selections. */
  maxDepth: number;
  /** Estimated cost of one operation, priced from the real request (see `estimateQueryCost`). */
  maxCost: number;
  maxAliases: number;
}

/**
 * A plain `clusters` list costs one per cluster, and `pks clusters` over a fleet of 10,000 must still be
 * answered; anything that multiplies it (events, nodes, aliases) over such a fleet is refused.
 */
export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 8, maxCost: 50_000, maxAliases: 15 };

/**
 * The price of one call to another system made while resolving a field: a Director `vms` task for a
 * cluster's nodes (queued behind deploys on the Director's few workers, polled to its end), a broker
 * request for a change. Fifty rows' worth: the work the API and the other system do for it is tens of
 * milliseconds where a row read in a batch is a fraction of one, and the Director's workers are shared
 * with every deploy.
 */
export const EXTERNAL_CALL_COST = 50;

function limitError(limit: string, message: string): InstanceType<typeof GraphQLError> {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', limit } });
}

/**
 * Validation rules that refuse a query before it runs when it is deeper or more aliased than the limits.
 * Both depend on the document alone; its cost also depends on the variables and on the caller's fleet, so
 * it is checked once those are known (`QueryCostGuard`).
 */
export function queryLimitRules(limits: QueryLimits = DEFAULT_QUERY_LIMITS): ValidationRule[] {
  return [
    (context: ValidationContext): ASTVisitor => {
      let aliases = 0;
      return {
        Field(node) {
          if (node.alias) aliases += 1;
        },
        Document: {
          leave() {
            if (aliases > limits.maxAliases) {
              context.reportError(
                limitError(
                  'aliases',
                  `the query uses ${aliases} aliases; at most ${limits.maxAliases} are allowed`,
                ),
              );
            }
          },
        },
      };
    },
    (context: ValidationContext): ASTVisitor => ({
      OperationDefinition(node) {
        const fragments = fragmentsOf(context.getDocument());
        const depth = depthOf(node.selectionSet, fragments, new Set());
        if (depth > limits.maxDepth) {
          context.reportError(
            limitError('depth', `the query is ${depth} levels deep; at most ${limits.maxDepth} are allowed`),
          );
        }
      },
    }),
  ];
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  return fragments;
}

function depthOf(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  visiting: Set<string>,
): number {
  let depth = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      // Introspection (`__schema`, `__type`) nests as deep as the schema's types, not the data: GraphiQL's
      // and codegen's standard query is 15 levels and must pass. Its size is the schema's, fixed.
      if (selection.name.value.startsWith('__')) {
        depth = Math.max(depth, 1);
        continue;
      }
      const inner = selection.selectionSet ? depthOf(selection.selectionSet, fragments, visiting) : 0;
      depth = Math.max(depth, inner + 1);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      depth = Math.max(depth, depthOf(selection.selectionSet, fragments, visiting));
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (fragment === undefined || visiting.has(name)) continue; // a cycle is reported by the standard rules
      visiting.add(name);
      depth = Math.max(depth, depthOf(fragment.selectionSet, fragments, visiting));
      visiting.delete(name);
    }
  }
  return depth;
}

// ---------------------------------------------------------------------------------------------------
// Cost

/** How many items a list field returns, as its resolver bounds it. */
export type ListSize =
  /** A size argument (`limit`, `first`), clamped as the resolver clamps it or refused above `max`. */
  | { by: 'argument'; argument: string; min: number; max: number }
  /** Every cluster the caller can see: all for admin and admin.read, their own for managers. */
  | { by: 'visibleClusters' }
  /** The edges of a connection: as many as the connection field's page argument asked for. */
  | { by: 'page' }
  /** A bound the store or the configuration keeps, and why it holds. */
  | { by: 'bound'; size: number; why: string };

export interface FieldPrice {
  /** For a list of objects: how many items it returns. */
  list?: ListSize;
  /** A call to another system per resolution of the field, and which system. */
  call?: { cost: number; to: string };
  /** For a connection: the argument that sizes its `edges`. */
  page?: { argument: string; min: number; max: number };
}

/**
 * What each field of the schema costs beyond the unit price, keyed `Type.field`. The unit: every object
 * the answer holds costs 1 (a row read, or an object built), a list of objects its size times (1 + its
 * selection), a scalar nothing (it comes with its object's row). Every list of objects must be here
 * (guards.test.ts checks the schema against it): its size is what the resolver really serves.
 */
export function fieldPrices(plans: readonly Plan[]): Readonly<Record<string, FieldPrice>> {
  const events: ListSize = { by: 'argument', argument: 'limit', min: 1, max: MAX_EVENTS_LIMIT };
  const broker: FieldPrice = { call: { cost: EXTERNAL_CALL_COST, to: 'broker' } };
  // A cluster's VMs: masters and workers of its plan; a plan taken out of service may still have clusters.
  const vms = Math.max(1, ...plans.map((p) => p.master.instances + p.worker.maxInstances));
  return {
    'Query.clusters': { list: { by: 'visibleClusters' } },
    'Query.clustersConnection': { page: { argument: 'first', min: 0, max: MAX_CLUSTER_PAGE } },
    'ClusterConnection.edges': { list: { by: 'page' } },
    'Cluster.events': { list: events },
    'Cluster.nodes': {
      call: { cost: EXTERNAL_CALL_COST, to: 'Director' },
      list: { by: 'bound', size: vms, why: 'VMs of the largest plan' },
    },
    'Cluster.conditions': {
      list: { by: 'bound', size: Object.keys(ConditionType).length, why: 'the condition types' },
    },
    'ClusterStatus.instances': { list: { by: 'bound', size: vms, why: 'VMs of the largest plan' } },
    // At most one group per VM (masters and workers, in practice).
    'ClusterStatus.instanceGroups': { list: { by: 'bound', size: vms, why: 'VMs of the largest plan' } },
    'Query.auditEvents': { list: events },
    'Query.clusterOperations': {
      list: { by: 'argument', argument: 'limit', min: 1, max: MAX_LISTED_OPERATIONS },
    },
    'Query.plans': { list: { by: 'bound', size: plans.length, why: 'configured plans' } },
    // No bound in the store: priced as the largest page the API serves of anything.
    'Query.networkProfiles': { list: { by: 'bound', size: MAX_CLUSTER_PAGE, why: 'unbounded: one page' } },
    'Query.quotas': { list: { by: 'bound', size: MAX_LISTED_QUOTAS, why: 'most quotas listed' } },
    'Query.usages': { list: { by: 'bound', size: MAX_LISTED_QUOTAS, why: 'most owners listed' } },
    // An owner's clusters: at most those the caller sees (a manager sees only their own usage).
    'Usage.clusters': { list: { by: 'visibleClusters' } },
    'Query.tasks': { list: { by: 'bound', size: MAX_LISTED_TASKS, why: 'most recent runs' } },
    // A run holds the clusters its owner could change when it started: at most those the caller sees.
    'Task.clusters': { list: { by: 'visibleClusters' } },
    'Mutation.createCluster': broker,
    'Mutation.updateCluster': broker,
    'Mutation.resizeCluster': broker,
    'Mutation.upgradeCluster': broker,
    'Mutation.deleteCluster': broker,
    'Mutation.clusterCredentials': broker,
    'Mutation.upgradeClusters': broker,
    'Mutation.cancelTask': broker,
  };
}

/** The estimate of one operation: the total, and the root fields it came from (aliased copies grouped). */
export interface QueryCost {
  total: number;
  parts: { path: string; copies: number; each: number }[];
}

interface Priced {
  cost: number;
  /** The costliest way down the selection, as steps a person can read. */
  steps: string[];
  /** Whether the first step is the field's own (a list size or a call), so it names the field already. */
  ownStep?: boolean;
}

interface Pricing {
  prices: Readonly<Record<string, FieldPrice>>;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  visibleClusters: number | undefined;
  /** Set when a list was priced by the caller's clusters before their count was known. */
  needsVisibleClusters: boolean;
}

/**
 * Prices an operation as it will run: list sizes from literals, variables (a missing one by the
 * argument's default, a null one by the most the field serves) and the caller's visible clusters, every
 * aliased copy and every fragment counted. `visibleClusters` is asked only when the operation lists
 * clusters. Undefined when the variables cannot be coerced: graphql-js then refuses the operation before
 * any resolver runs, and that error says more than a cost would.
 */
export async function estimateQueryCost(options: {
  schema: GraphQLSchema;
  prices: Readonly<Record<string, FieldPrice>>;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables: Record<string, unknown> | undefined;
  visibleClusters: () => Promise<number>;
}): Promise<QueryCost | undefined> {
  const { schema, operation } = options;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], options.variables ?? {});
  if (coerced.errors !== undefined) return undefined;
  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (!root) return { total: 0, parts: [] };
  const pricing: Pricing = {
    prices: options.prices,
    fragments: fragmentsOf(options.document),
    variables: coerced.coerced,
    visibleClusters: undefined,
    needsVisibleClusters: false,
  };
  let parts = priceRoot(pricing, operation.selectionSet, root);
  if (pricing.needsVisibleClusters) {
    pricing.visibleClusters = await options.visibleClusters();
    parts = priceRoot(pricing, operation.selectionSet, root);
  }
  const groups = new Map<string, { path: string; copies: number; each: number }>();
  for (const part of parts) {
    const path = part.steps.join(' × ');
    const key = `${path}\u0000${part.cost}`;
    const group = groups.get(key);
    if (group) group.copies += 1;
    else groups.set(key, { path, copies: 1, each: part.cost });
  }
  return {
    total: parts.reduce((sum, part) => sum + part.cost, 0),
    parts: [...groups.values()].sort((a, b) => b.copies * b.each - a.copies * a.each),
  };
}

/** The fields one selection set runs, by response key, as graphql-js collects them. */
interface Collected {
  node: FieldNode;
  /** Its selection sets: the same key selected twice (through fragments, say) runs once, on their union. */
  sets: SelectionSetNode[];
  /** The fragments spread on the way to it, so a fragment met again below cannot loop. */
  via: Set<string>;
}

function collectFields(
  pricing: Pricing,
  selectionSet: SelectionSetNode,
  path: ReadonlySet<string>,
  via: ReadonlySet<string> = new Set(),
  into: Map<string, Collected> = new Map(),
): Map<string, Collected> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      let entry = into.get(key);
      if (entry === undefined) {
        entry = { node: selection, sets: [], via: via.size === 0 ? new Set() : new Set(via) };
        into.set(key, entry);
      } else {
        for (const name of via) entry.via.add(name);
      }
      if (selection.selectionSet) entry.sets.push(selection.selectionSet);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      // The schema has object types only: a type condition always names the type at hand.
      collectFields(pricing, selection.selectionSet, path, via, into);
    } else {
      const name = selection.name.value;
      const fragment = pricing.fragments.get(name);
      // A cycle never runs (validation refuses it); stopping here keeps an unvalidated one from looping.
      if (fragment === undefined || path.has(name) || via.has(name)) continue;
      collectFields(pricing, fragment.selectionSet, path, new Set([...via, name]), into);
    }
  }
  return into;
}

/** The root fields, each priced on its own (so aliased copies can be told apart in the explanation). */
function priceRoot(pricing: Pricing, selectionSet: SelectionSetNode, root: GraphQLNamedType): Priced[] {
  return [...collectFields(pricing, selectionSet, new Set()).values()].map((entry) => {
    const priced = priceField(pricing, entry, root, undefined, entry.via);
    if (priced.ownStep) return priced;
    const [first, ...rest] = priced.steps;
    const name = entry.node.name.value;
    return { ...priced, steps: [first === undefined ? name : `${name}: ${first}`, ...rest] };
  });
}

function priceSelections(
  pricing: Pricing,
  selectionSets: readonly SelectionSetNode[],
  type: GraphQLNamedType,
  page: number | undefined,
  path: ReadonlySet<string>,
): Priced {
  const fields = new Map<string, Collected>();
  for (const set of selectionSets) collectFields(pricing, set, path, new Set(), fields);
  let cost = 0;
  let costliest: Priced = { cost: 0, steps: [] };
  for (const entry of fields.values()) {
    const below = entry.via.size === 0 ? path : new Set([...path, ...entry.via]);
    const priced = priceField(pricing, entry, type, page, below);
    cost += priced.cost;
    if (priced.cost > costliest.cost) costliest = priced;
  }
  return { cost, steps: costliest.steps };
}

function priceField(
  pricing: Pricing,
  entry: Collected,
  parent: GraphQLNamedType,
  page: number | undefined,
  path: ReadonlySet<string>,
): Priced {
  const { node } = entry;
  const name = node.name.value;
  // Introspection is answered from the schema in memory; its size is the schema's, not the caller's.
  if (name.startsWith('__')) return { cost: name === '__typename' ? 0 : 1, steps: [] };
  const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
  if (field === undefined) return { cost: 0, steps: [] }; // validation refuses it before this runs
  const price = pricing.prices[`${parent.name}.${name}`] ?? {};
  const steps: string[] = [];
  let cost = 0;
  if (price.call) {
    cost += price.call.cost;
    steps.push(`${name} (a ${price.call.to} call, ${format(price.call.cost)})`);
  }
  const named = getNamedType(field.type);
  if (!isCompositeType(named) || entry.sets.length === 0) return { cost, steps, ownStep: steps.length > 0 };

  let innerPage: number | undefined;
  if (price.page) {
    const size = argumentSize(pricing, node, field, price.page);
    innerPage = size.size;
    steps.push(`${name} ${size.label}`);
  }
  const inner = priceSelections(pricing, entry.sets, named, innerPage, path);
  let items = 1;
  if (isList(field.type)) {
    const size = listSize(pricing, node, field, price.list, page);
    items = size.size;
    if (size.step !== undefined) {
      if (price.call) steps[steps.length - 1] += ` ${size.step}`;
      else steps.push(`${name} ${size.step}`);
    }
  }
  cost += items * (1 + inner.cost);
  return { cost, steps: [...steps, ...inner.steps], ownStep: steps.length > 0 };
}

function isList(type: GraphQLOutputType): boolean {
  return isListType(getNullableType(type));
}

/** A list's size, and how it was found (none for edges: their connection already said). */
function listSize(
  pricing: Pricing,
  node: FieldNode,
  field: GraphQLField<unknown, unknown>,
  size: ListSize | undefined,
  page: number | undefined,
): { size: number; step: string | undefined } {
  switch (size?.by) {
    case 'argument': {
      const priced = argumentSize(pricing, node, field, size);
      return { size: priced.size, step: priced.label };
    }
    case 'visibleClusters': {
      if (pricing.visibleClusters === undefined) pricing.needsVisibleClusters = true;
      const visible = pricing.visibleClusters ?? 0;
      return { size: visible, step: `×${format(visible)} visible` };
    }
    case 'page':
      return page === undefined
        ? { size: MAX_CLUSTER_PAGE, step: `×${format(MAX_CLUSTER_PAGE)} (largest page)` }
        : { size: page, step: undefined };
    case 'bound':
      return { size: size.size, step: `×${format(size.size)} (${size.why})` };
    default:
      // A list nobody priced yet (guards.test.ts keeps this from shipping): the largest page the API serves.
      return { size: MAX_CLUSTER_PAGE, step: `×${format(MAX_CLUSTER_PAGE)} (unpriced: largest page)` };
  }
}

/** A size argument as the resolver will see it: literal, variable, or default; clamped to what it serves. */
function argumentSize(
  pricing: Pricing,
  node: FieldNode,
  field: GraphQLField<unknown, unknown>,
  spec: { argument: string; min: number; max: number },
): { size: number; label: string } {
  const given = node.arguments?.find((a) => a.name.value === spec.argument);
  const definition = field.args.find((a) => a.name === spec.argument);
  let value: unknown = definition?.defaultValue;
  let source = '(default)';
  if (given?.value.kind === Kind.VARIABLE) {
    const variable = given.value.name.value;
    // Not provided and no default of its own: graphql-js then gives the resolver the argument's default.
    if (Object.hasOwn(pricing.variables, variable)) {
      value = pricing.variables[variable];
      source = `$${variable}`;
    }
  } else if (given !== undefined && definition !== undefined) {
    value = valueFromAST(given.value, definition.type);
    source = '';
  }
  // A value the resolver cannot use (null) is priced as the most it serves.
  const raw = typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : spec.max;
  const size = Math.min(Math.max(raw, spec.min), spec.max);
  const label =
    source === ''
      ? `${spec.argument} ${format(size)}`
      : source === '(default)'
        ? `${spec.argument} ${format(size)} (default)`
        : `${spec.argument} ${source} = ${format(size)}`;
  return { size, label };
}

const numbers = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
function format(n: number): string {
  return numbers.format(n);
}

/**
 * The refusal of an operation over the cost limit, as bad input of the query: the total, the costliest
 * root fields and the limit, in `message` and (as numbers) in `extensions`.
 */
export function queryCostError(cost: QueryCost, maxCost: number): InstanceType<typeof GraphQLError> {
  const shown = cost.parts
    .slice(0, 3)
    .map((part) =>
      part.copies === 1
        ? `${part.path} = ${format(part.each)}`
        : `${part.copies} × ${part.path} = ${format(part.each)} each`,
    );
  if (cost.parts.length > shown.length) shown.push('…');
  const error = new InputError(
    'query',
    `the estimated cost is ${format(cost.total)} (${shown.join(', ')}); at most ${format(maxCost)} is allowed`,
    { details: { limit: 'cost', cost: cost.total, maxCost } },
  );
  return new GraphQLError(describeInputError(error), {
    originalError: error,
    extensions: errorExtensionsOf(error),
  });
}

/**
 * The cost limit of one API server: prices each operation from its variables and the caller's fleet
 * before any resolver runs, over HTTP and graphql-ws alike. Counting the caller's clusters is one COUNT,
 * and only for operations that list clusters.
 */
export class QueryCostGuard {
  readonly #schema: GraphQLSchema;
  readonly #prices: Readonly<Record<string, FieldPrice>>;
  readonly #maxCost: number;

  constructor(options: { schema: GraphQLSchema; plans: readonly Plan[]; limits: QueryLimits }) {
    this.#schema = options.schema;
    this.#prices = fieldPrices(options.plans);
    this.#maxCost = options.limits.maxCost;
  }

  /** The refusal when the operation costs more than the limit, else undefined. */
  async check(request: {
    document: DocumentNode;
    operation: OperationDefinitionNode;
    variables: Record<string, unknown> | undefined;
    visibleClusters: () => Promise<number>;
  }): Promise<InstanceType<typeof GraphQLError> | undefined> {
    const cost = await estimateQueryCost({ schema: this.#schema, prices: this.#prices, ...request });
    if (cost === undefined || cost.total <= this.#maxCost) return undefined;
    return queryCostError(cost, this.#maxCost);
  }
}
