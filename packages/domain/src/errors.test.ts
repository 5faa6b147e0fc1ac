import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  ErrorCode,
  ExitCode,
  InputError,
  InputErrors,
  InternalError,
  NotFoundError,
  collectInputErrors,
  describeInputError,
  describeInputErrors,
  throwInputErrors,
  errorExtensionsOf,
  exitCodeOf,
  httpStatusOf,
  invariant,
} from './errors.js';

describe('typed errors', () => {
  it('carry stable codes that transports map to HTTP status', () => {
    expect(httpStatusOf(new NotFoundError('Cluster x not found'))).toBe(404);
    expect(httpStatusOf(new ConflictError('busy'))).toBe(409);
    expect(httpStatusOf(new InputError('name', 'bad'))).toBe(400);
    expect(httpStatusOf(new Error('boom'))).toBe(500);
  });

  it('map bad input to the CLI usage exit code and everything else to failure', () => {
    expect(exitCodeOf(new InputError('n', 'bad'))).toBe(ExitCode.USAGE);
    expect(exitCodeOf(new NotFoundError('gone'))).toBe(ExitCode.FAILURE);
    expect(exitCodeOf(new TypeError('oops'))).toBe(ExitCode.FAILURE);
    // The codes an API answers with map through the same table.
    expect(exitCodeOf('BAD_USER_INPUT')).toBe(ExitCode.USAGE);
    expect(exitCodeOf('FORBIDDEN')).toBe(ExitCode.FAILURE);
    expect(exitCodeOf('SOMETHING_NEW')).toBe(ExitCode.FAILURE);
  });

  it('expose the offending field and what is allowed as GraphQL extensions', () => {
    const error = new InputError('workers', 'too many workers: 11', { allowed: '1 to 10' });
    expect(errorExtensionsOf(error)).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'workers',
      allowed: '1 to 10',
      fields: [{ field: 'workers', message: 'too many workers: 11', allowed: '1 to 10' }],
    });
    expect(errorExtensionsOf(new Error('secret detail'))).toEqual({ code: 'INTERNAL' });
    const conflict = new ConflictError('Cluster a already exists', { details: { field: 'name', code: 'X' } });
    expect(errorExtensionsOf(conflict)).toEqual({ code: 'CONFLICT', field: 'name' });
  });

  it('collect several field errors into one', () => {
    const errors = new InputErrors([new InputError('a', 'is wrong'), new InputError('b', 'is missing')]);
    expect(errors.message).toBe('a: is wrong\nb: is missing');
    const allowed = new InputErrors([new InputError('a', 'is wrong', { allowed: 'x, y' })]);
    expect(allowed.message).toBe('a: is wrong (allowed: x, y)');
    expect(errorExtensionsOf(errors)).toMatchObject({
      code: ErrorCode.BAD_USER_INPUT,
      fields: [{ field: 'a' }, { field: 'b' }],
    });
  });

  it('show bad input as one line per field: field path, reason, what is allowed', () => {
    const lbSize = new InputError('parameters.lb_size', '"huge" is not allowed', {
      allowed: 'small, medium, large',
    });
    expect(describeInputError(lbSize)).toBe(
      'parameters.lb_size: "huge" is not allowed (allowed: small, medium, large)',
    );
    // The message stays the reason alone: a transport that prefixes the field does not repeat it.
    expect(lbSize.message).toBe('"huge" is not allowed');
    expect(describeInputError({ reason: 'nothing to change' })).toBe('nothing to change');
    expect(describeInputError({ field: 'name', reason: 'is taken' })).toBe('name: is taken');
    // A reason that already carries its field or its allowed values is not given them twice.
    expect(
      describeInputError({
        field: 'numNodes',
        reason: 'numNodes: too many (allowed: 1 to 10)',
        allowed: '1 to 10',
      }),
    ).toBe('numNodes: too many (allowed: 1 to 10)');
    expect(describeInputError({ field: 'plan_id', reason: 'plan_id is required' })).toBe(
      'plan_id: is required',
    );
    // Only the field's own name is dropped, not a longer word that starts like it.
    expect(describeInputError({ field: 'plan', reason: 'plan_id is required' })).toBe(
      'plan: plan_id is required',
    );
    const several = new InputErrors([
      lbSize,
      new InputError('parameters.nodes_dns[0]', '"x" is not an IPv4 address', { allowed: 'an IPv4 address' }),
    ]);
    expect(describeInputErrors(several)).toBe(
      'parameters.lb_size: "huge" is not allowed (allowed: small, medium, large)\n' +
        'parameters.nodes_dns[0]: "x" is not an IPv4 address (allowed: an IPv4 address)',
    );
    expect(describeInputErrors(lbSize)).toBe(describeInputError(lbSize));
  });

  it('gather every bad field of a pass of checks before throwing', () => {
    const found: InputError[] = [];
    expect(collectInputErrors(found, () => 3)).toBe(3);
    expect(
      collectInputErrors(found, () => {
        throw new InputError('name', 'is taken');
      }),
    ).toBeUndefined();
    collectInputErrors(found, () => {
      throw new InputErrors([new InputError('a', 'is wrong'), new InputError('b', 'is missing')]);
    });
    expect(() => collectInputErrors(found, () => invariant(false, 'a bug, not bad input'))).toThrowError(
      InternalError,
    );
    expect(found.map((e) => e.field)).toEqual(['name', 'a', 'b']);
    expect(() => throwInputErrors(found)).toThrowError(InputErrors);
    expect(() => throwInputErrors(found.slice(0, 1))).toThrowError(found[0]!);
    expect(() => throwInputErrors([])).not.toThrow();
  });

  it('keep the cause chain and the class name', () => {
    const cause = new Error('socket hang up');
    const error = new ConflictError('deployment is locked', { cause });
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('ConflictError');
    expect(error).toBeInstanceOf(Error);
  });

  it('invariant throws an internal error when its assumption breaks', () => {
    expect(() => invariant(false, 'lease held')).toThrowError(InternalError);
    expect(() => invariant(1, 'fine')).not.toThrow();
  });
});
