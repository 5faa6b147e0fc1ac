import { InputError } from '@openpks/domain';

/**
 * graphql-js refuses a variable it cannot coerce with one sentence (`Variable "$input" got invalid value -1
 * at "input.numNodes"; Int cannot represent …`) before any resolver runs. These turn that sentence into
 * the InputError a service would have thrown, so the answer names the field the same way: the path inside
 * the argument (`numNodes`, `drain.kubeletDrainTimeout`), or the variable itself when it is the value.
 */

// A value inside the variable (with its path) is tried first, so a `; ` in the printed value cannot end
// the value early; then the variable as a whole.
const INVALID_AT =
  /^Variable "\$([_A-Za-z]\w*)" got invalid value [\s\S]*? at "\1((?:\.\w+|\[\d+\])+)"; ([\s\S]+)$/;
const INVALID_WHOLE = /^Variable "\$([_A-Za-z]\w*)" got invalid value [\s\S]*?(); ([\s\S]+)$/;
const NOT_PROVIDED = /^Variable "\$([_A-Za-z]\w*)" of required type "([^"]+)" was not provided\.$/;
const NULL_VALUE = /^Variable "\$([_A-Za-z]\w*)" of non-null type "([^"]+)" must not be null\.$/;

export function inputErrorOfVariable(message: string): InputError | undefined {
  const missing = NOT_PROVIDED.exec(message) ?? NULL_VALUE.exec(message);
  if (missing) return new InputError(missing[1], 'is required', { allowed: `a value of type ${missing[2]}` });
  const invalid = INVALID_AT.exec(message) ?? INVALID_WHOLE.exec(message);
  if (!invalid) return undefined;
  const [, variable, at = '', inner = ''] = invalid;
  // `.numNodes` or `.drain.kubeletDrainTimeout` or `.clusters[2]`: the path below the variable; a list
  // variable's own entries (`[2]`) keep its name.
  const path = at.startsWith('[') ? `${variable}${at}` : at.replace(/^\./, '');
  const within = (field: string) => (path === '' ? field : `${path}.${field}`);
  const required = /^Field "(\w+)" of required type "([^"]+)" was not provided\.$/.exec(inner);
  if (required) {
    return new InputError(within(required[1]!), 'is required', { allowed: `a value of type ${required[2]}` });
  }
  const unknown = /^Field "(\w+)" is not defined by type "(\w+)"\.(?: Did you mean (.+)\?)?$/.exec(inner);
  if (unknown) {
    return new InputError(
      within(unknown[1]!),
      `is not a field of ${unknown[2]}`,
      unknown[3] ? { allowed: unknown[3].replace(/, or /, ', ').replace(/ or /, ', ') } : {},
    );
  }
  return new InputError(path === '' ? variable : path, reasonOfScalar(inner.replace(/\.$/, '')), {
    ...allowedOfScalar(inner),
  });
}

/** The scalar's own words, turned to follow a field name ("99999999999 is not …"). */
function reasonOfScalar(inner: string): string {
  const scalar = /^(Int|Float|String|Boolean|ID) cannot represent (?:a )?(non[- ][^:]*): ([\s\S]+)$/.exec(
    inner,
  );
  if (!scalar) return inner;
  const [, type, what, value] = scalar;
  if (type === 'Int') {
    return `${value} is not a whole number${/32-bit/.test(what!) ? ' that fits in 32 bits' : ''}`;
  }
  return `${value} is not a ${type}`;
}

function allowedOfScalar(inner: string): { allowed?: string } {
  if (/^Int cannot represent/.test(inner))
    return { allowed: 'a whole number from -2147483648 to 2147483647' };
  if (/^Boolean cannot represent/.test(inner)) return { allowed: 'true, false' };
  return {};
}
