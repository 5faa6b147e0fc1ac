/** What a broker operation does (ODB's `OperationType`). */
export const OperationType = {
  CREATE: 'create',
  UPDATE: 'update',
  DELETE: 'delete',
  UPGRADE: 'upgrade',
  RECREATE: 'recreate',
} as const;
export type OperationType = (typeof OperationType)[keyof typeof OperationType];

/** An operation's state, as OSB `last_operation` reports it. */
export const OperationState = {
  IN_PROGRESS: 'in progress',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
} as const;
export type OperationState = (typeof OperationState)[keyof typeof OperationState];

/**
 * ODB's operation data: the `operation` string a 202 carries (OSB leaves it opaque; ODB and openpks put
 * this JSON in it) and the platform sends back on `last_operation`. `BoshContextID` is the BoshContextID
 * convention: every Director task of one operation (the deploy, its lifecycle errands, a deletion) is
 * started with `X-Bosh-Context-Id: <BoshContextID>`, so anyone with Director access (the API's tracker)
 * finds exactly the operation's tasks with `GET /tasks?context_id=…`.
 */
export interface OperationData {
  BoshTaskID: number;
  BoshContextID: string;
  OperationType: OperationType;
  PlanID: string;
  Errands?: { name: string }[];
}

/** The `operation` string for operation data. */
export function operationStringOf(data: OperationData): string {
  return JSON.stringify(data);
}

/**
 * The operation data of an operation the platform adopts rather than starts: one a broker upgrade run
 * started (`UpgradeRunInstance.operation_id`). The run names only the operation's BoshContextID, and the
 * type is the run's; that is all `last_operation` needs, since the broker finds the operation by its
 * BoshContextID (the task id and plan are the broker's own record of it).
 */
export type AdoptedOperationData = Pick<OperationData, 'BoshContextID' | 'OperationType'>;

/** The `operation` string to poll `last_operation` with for an operation adopted from an upgrade run. */
export function adoptedOperationStringOf(
  operationId: string,
  type: typeof OperationType.UPGRADE | typeof OperationType.RECREATE,
): string {
  const data: AdoptedOperationData = { BoshContextID: operationId, OperationType: type };
  return JSON.stringify(data);
}

/**
 * Operation data read back from an `operation` string: the fields that are there and well typed.
 * Undefined when the string is not JSON of an object (not one this contract wrote).
 */
export function parseOperationData(operation: string | null | undefined): Partial<OperationData> | undefined {
  if (operation === null || operation === undefined || operation === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(operation);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const raw = parsed as Record<string, unknown>;
  const data: Partial<OperationData> = {};
  if (typeof raw.BoshTaskID === 'number') data.BoshTaskID = raw.BoshTaskID;
  if (typeof raw.BoshContextID === 'string' && raw.BoshContextID !== '')
    data.BoshContextID = raw.BoshContextID;
  if (Object.values(OperationType).includes(raw.OperationType as OperationType))
    data.OperationType = raw.OperationType as OperationType;
  if (typeof raw.PlanID === 'string') data.PlanID = raw.PlanID;
  if (Array.isArray(raw.Errands)) data.Errands = raw.Errands as { name: string }[];
  return data;
}

/** The BOSH context id in an `operation` string, when the broker sent one. */
export function boshContextIdOf(operation: string | null | undefined): string | undefined {
  return parseOperationData(operation)?.BoshContextID;
}
