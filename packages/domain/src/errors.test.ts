import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  ErrorCode,
  ExitCode,
  InputError,
  InputErrors,
  InternalError,
  NotFoundError,
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
  });

  it('expose the offending field and what is allowed as GraphQL extensions', () => {
    const error = new InputError('workers', 'too many workers: 11', { allowed: '1 to 10' });
    expect(errorExtensionsOf(error)).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'workers',
      allowed: '1 to 10',
    });
    expect(errorExtensionsOf(new Error('secret detail'))).toEqual({ code: 'INTERNAL' });
    const conflict = new ConflictError('Cluster a already exists', { details: { field: 'name', code: 'X' } });
    expect(errorExtensionsOf(conflict)).toEqual({ code: 'CONFLICT', field: 'name' });
  });

  it('collect several field errors into one', () => {
    const errors = new InputErrors([new InputError('a', 'is wrong'), new InputError('b', 'is missing')]);
    expect(errors.message).toBe('a: is wrong\nb: is missing');
    expect(errorExtensionsOf(errors)).toMatchObject({
      code: ErrorCode.BAD_USER_INPUT,
      fields: [{ field: 'a' }, { field: 'b' }],
    });
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
