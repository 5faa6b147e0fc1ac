import type {
  ASTVisitor,
  FragmentDefinitionNode,
  GraphQLOutputType,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
} from 'graphql';
import { graphql } from '../graphql/graphqlRealm.js';

const { GraphQLError, Kind, getNamedType, getNullableType, isListType, isObjectType, isInterfaceType } =
  graphql;

export interface QueryLimits {
  /** Deepest nesting of selections. */
  maxDepth: number;
  /** Estimated cost: each field 1, a list field multiplies its selection by its `limit` (else 10). */
  maxCost: number;
  maxAliases: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 8, maxCost: 5_000, maxAliases: 15 };
const DEFAULT_LIST_SIZE = 10;

function limitError(limit: string, message: string): InstanceType<typeof GraphQLError> {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', limit } });
}

/**
 * Validation rules that refuse a query before it runs when it is deeper, costlier or more aliased than
 * the limits: one request cannot make the API do unbounded work.
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
        const fragments = new Map<string, FragmentDefinitionNode>();
        for (const def of context.getDocument().definitions) {
          if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
        }
        const schema = context.getSchema();
        const root =
          node.operation === 'query'
            ? schema.getQueryType()
            : node.operation === 'mutation'
              ? schema.getMutationType()
              : schema.getSubscriptionType();
        if (!root) return;
        const { depth, cost } = measure(node.selectionSet, root, fragments, new Set());
        if (depth > limits.maxDepth) {
          context.reportError(
            limitError('depth', `the query is ${depth} levels deep; at most ${limits.maxDepth} are allowed`),
          );
        }
        if (cost > limits.maxCost) {
          context.reportError(
            limitError('cost', `the query's estimated cost is ${cost}; at most ${limits.maxCost} is allowed`),
          );
        }
      },
    }),
  ];
}

function measure(
  selectionSet: SelectionSetNode,
  type: GraphQLOutputType,
  fragments: Map<string, FragmentDefinitionNode>,
  visiting: Set<string>,
): { depth: number; cost: number } {
  const named = getNamedType(type);
  let depth = 0;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const fields = isObjectType(named) || isInterfaceType(named) ? named.getFields() : {};
      const field = fields[selection.name.value];
      const fieldType = field?.type;
      let childDepth = 0;
      let childCost = 0;
      if (selection.selectionSet && fieldType) {
        ({ depth: childDepth, cost: childCost } = measure(
          selection.selectionSet,
          fieldType,
          fragments,
          visiting,
        ));
      }
      let multiplier = 1;
      if (fieldType && isListType(getNullableType(fieldType))) {
        const limitArg = selection.arguments?.find((a) => a.name.value === 'limit');
        multiplier =
          limitArg?.value.kind === Kind.INT ? Math.max(1, Number(limitArg.value.value)) : DEFAULT_LIST_SIZE;
      }
      depth = Math.max(depth, childDepth + 1);
      cost += 1 + multiplier * childCost;
    } else {
      let set: SelectionSetNode | undefined;
      if (selection.kind === Kind.INLINE_FRAGMENT) set = selection.selectionSet;
      else {
        const name = selection.name.value;
        if (visiting.has(name)) continue; // a cycle is reported by the standard rules
        set = fragments.get(name)?.selectionSet;
        if (set) {
          visiting.add(name);
          const inner = measure(set, type, fragments, visiting);
          visiting.delete(name);
          depth = Math.max(depth, inner.depth);
          cost += inner.cost;
          continue;
        }
      }
      if (set) {
        const inner = measure(set, type, fragments, visiting);
        depth = Math.max(depth, inner.depth);
        cost += inner.cost;
      }
    }
  }
  return { depth, cost };
}
