import type { CombinedError } from 'urql';
import { describeInputError } from '@openpks/domain';

/** One message per form field, from the API's BAD_USER_INPUT errors (`extensions.fields`). */
export type FieldErrors = Record<string, string>;

/**
 * A form's fields as the API names them (`name`, `externalHostname`, `parameters`…), each with the label
 * the person sees. A message is put on the field whose API name is the error's field or a prefix of it
 * (`parameters.lb_size` goes on `parameters`).
 */
export type FormFields = Readonly<Record<string, string>>;

interface FieldExtension {
  field?: unknown;
  message?: unknown;
  allowed?: unknown;
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * The line shown for one bad input next to its form field: the domain's rule, the field named by its
 * label when it is the form field itself, by its path when it lies inside one (a key of the parameters
 * JSON, `parameters.lb_size`, as the person typed it).
 */
export function inputErrorLine(
  form: FormFields,
  field: string | undefined,
  reason: string,
  allowed?: string,
) {
  return describeInputError({
    field: field === undefined ? undefined : (form[field] ?? field),
    reason,
    allowed,
  });
}

/**
 * Splits an urql error into messages for named fields and a message for the form as a whole. Each bad
 * field is one line in the domain's rule (`<field>: <reason> (allowed: …)`); several bad values inside
 * one form field (a parameters JSON) are one line each under it.
 */
export function fieldErrorsOf(
  error: CombinedError | undefined,
  form: FormFields,
): { fields: FieldErrors; form?: string } {
  const fields: FieldErrors = {};
  const rest: string[] = [];
  if (!error) return { fields };
  if (error.networkError)
    return { fields, form: `The console could not reach the API: ${error.networkError.message}` };
  const known = Object.keys(form);
  const put = (target: string, line: string) => {
    fields[target] = fields[target] ? `${fields[target]}\n${line}` : line;
  };
  for (const graphQLError of error.graphQLErrors) {
    const ext = graphQLError.extensions as {
      code?: unknown;
      field?: unknown;
      allowed?: unknown;
      fields?: unknown;
    };
    const inputs: FieldExtension[] =
      ext.code === 'BAD_USER_INPUT' && Array.isArray(ext.fields)
        ? (ext.fields as FieldExtension[])
        : [{ field: ext.field, message: graphQLError.message, allowed: ext.allowed }];
    for (const entry of inputs) {
      const field = text(entry.field)?.replace(/^input\./, '');
      const target = field && (known.includes(field) ? field : known.find((k) => field.startsWith(`${k}.`)));
      if (ext.code === 'BAD_USER_INPUT') {
        const line = inputErrorLine(
          form,
          field,
          text(entry.message) ?? graphQLError.message,
          text(entry.allowed),
        );
        if (target) put(target, line);
        else rest.push(line);
      } else if (target && ext.code === 'CONFLICT') {
        // A conflict is about the field (a taken name), not a value to correct: its message as it is.
        put(target, graphQLError.message);
      } else {
        rest.push(graphQLError.message);
      }
    }
  }
  return rest.length > 0 ? { fields, form: rest.join('\n') } : { fields };
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
