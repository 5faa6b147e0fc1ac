/**
 * An error answer of the NSX-T Policy API: `{ httpStatus, error_code, module_name, error_message }`.
 * Real NSX Managers and the simulator answer in this shape; callers decide by `status` and `errorCode`.
 */
export class NsxError extends Error {
  readonly status: number;
  readonly errorCode: number | undefined;
  /** The request path, e.g. `/policy/api/v1/infra/tier-1s/x`. */
  readonly path: string;

  constructor(status: number, message: string, path: string, errorCode?: number) {
    super(message);
    this.name = 'NsxError';
    this.status = status;
    this.errorCode = errorCode;
    this.path = path;
  }
}

/**
 * Error codes the simulator answers with. NSX-T documents hundreds; these are the ones PKS trips over,
 * and the client only relies on them through `isExhaustion`, which also reads the message.
 */
export const NsxErrorCode = {
  INVALID_REQUEST: 500012,
  OBJECT_NOT_FOUND: 500090,
  IN_USE: 500030,
  OVERLAP: 5142,
  BLOCK_EXHAUSTED: 5140,
  POOL_EXHAUSTED: 5141,
  AUTHENTICATION: 403,
} as const;

/** Whether an NSX error means an IP block or pool ran out of space (the user's quota, not a fault). */
export function isExhaustion(error: NsxError): boolean {
  return (
    error.errorCode === NsxErrorCode.BLOCK_EXHAUSTED ||
    error.errorCode === NsxErrorCode.POOL_EXHAUSTED ||
    /exhausted|no free|insufficient/i.test(error.message)
  );
}
