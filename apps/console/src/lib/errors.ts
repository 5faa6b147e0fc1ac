import type { CombinedError } from 'urql';

/** One message per form field, from the API's BAD_USER_INPUT errors (`extensions.field` / `.fields`). */
export type FieldErrors = Record<string, string>;

interface FieldExtension {
  field?: unknown;
  message?: unknown;
  allowed?: unknown;
}

function withAllowed(message: string, allowed: unknown): string {
  return typeof allowed === 'string' && allowed !== '' ? `${message} (allowed: ${allowed})` : message;
}

/**
 * Splits an urql error into messages for named fields and a message for the form as a whole. The API
 * names the input field (`name`, `externalHostname`, `numNodes`, `parameters.lb_size`, …); the form
 * passes how its fields map (e.g. `input.name` → `name`).
 */
export function fieldErrorsOf(
  error: CombinedError | undefined,
  known: readonly string[],
): { fields: FieldErrors; form?: string } {
  const fields: FieldErrors = {};
  const rest: string[] = [];
  if (!error) return { fields };
  if (error.networkError)
    return { fields, form: `The console could not reach the API: ${error.networkError.message}` };
  for (const graphQLError of error.graphQLErrors) {
    const ext = graphQLError.extensions as {
      code?: unknown;
      field?: unknown;
      allowed?: unknown;
      fields?: unknown;
    };
    const list: FieldExtension[] = Array.isArray(ext.fields)
      ? (ext.fields as FieldExtension[])
      : [{ field: ext.field, message: graphQLError.message, allowed: ext.allowed }];
    for (const entry of list) {
      const field = typeof entry.field === 'string' ? entry.field.replace(/^input\./, '') : undefined;
      const message = withAllowed(String(entry.message ?? graphQLError.message), entry.allowed);
      const target = field && (known.includes(field) ? field : known.find((k) => field.startsWith(`${k}.`)));
      if (target && ext.code === 'BAD_USER_INPUT') fields[target] ??= message;
      else if (target && ext.code === 'CONFLICT') fields[target] ??= message;
      else rest.push(message);
    }
  }
  return rest.length > 0 ? { fields, form: rest.join(' ') } : { fields };
}

/** A short human message for an error shown as a page's error state. */
export function messageOf(error: CombinedError): string {
  if (error.networkError) return `The console could not reach the API (${error.networkError.message}).`;
  return error.graphQLErrors.map((e) => e.message).join(' ') || error.message;
}

export function codeOf(error: CombinedError | undefined): string | undefined {
  const code = error?.graphQLErrors[0]?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The message of an error the API put on one field of a partial answer (path ending in `field`), e.g.
 * `cluster.nodes` when the Director could not list the VMs. An INTERNAL error's message is withheld by
 * the API; its `extensions.reason` says what failed in words meant for people.
 */
export function fieldErrorOf(error: CombinedError | undefined, field: string): string | undefined {
  const found = error?.graphQLErrors.find((e) => e.path?.at(-1) === field);
  if (!found) return undefined;
  const reason = found.extensions?.reason;
  return typeof reason === 'string' && reason !== '' ? reason : found.message;
}
