import type { FieldNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { graphql } from './graphqlRealm.js';

/** The Cluster fields whose answer is read from the Director when one cluster is asked for. */
export const OBSERVED_FIELDS: ReadonlySet<string> = new Set(['status', 'conditions']);

/**
 * Whether the field being resolved selects any of `names` directly (through fragments and inline
 * fragments too), e.g. whether `cluster(name)` asks for its status.
 */
export function selectsAny(info: GraphQLResolveInfo, names: ReadonlySet<string>): boolean {
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode | undefined): boolean => {
    if (set === undefined) return false;
    for (const selection of set.selections) {
      if (selection.kind === graphql.Kind.FIELD) {
        if (names.has(selection.name.value)) return true;
      } else if (selection.kind === graphql.Kind.INLINE_FRAGMENT) {
        if (walk(selection.selectionSet)) return true;
      } else {
        const name = selection.name.value;
        if (seen.has(name)) continue;
        seen.add(name);
        if (walk(info.fragments[name]?.selectionSet)) return true;
      }
    }
    return false;
  };
  return info.fieldNodes.some((node: FieldNode) => walk(node.selectionSet));
}
