/**
 * The Cloud Provider Interface in CPI API v2 terms (docs-bosh cpi-api-v2.md). The Director calls only
 * this; the sim CPI is one implementation, and a process-spawning CPI (JSON on stdin/stdout) would be
 * another.
 */
export interface NetworkSettings {
  type: 'manual' | 'dynamic';
  ip?: string;
  netmask?: string;
  gateway?: string;
  default?: string[];
  cloud_properties?: Record<string, unknown>;
}

export interface CpiInfo {
  api_version: number;
  stemcell_formats: string[];
}

export interface Cpi {
  /** The name shown in `/info` `cpi` (the embedded default says "sim"). */
  readonly name: string;
  info(): Promise<CpiInfo>;
  create_stemcell(imagePath: string, cloudProperties: Record<string, unknown>): Promise<string>;
  delete_stemcell(stemcellCid: string): Promise<void>;
  /** v2: returns the VM cid and the networks as the IaaS assigned them. */
  create_vm(
    agentId: string,
    stemcellCid: string,
    cloudProperties: Record<string, unknown>,
    networks: Record<string, NetworkSettings>,
    diskCids: string[],
    env: Record<string, unknown>,
  ): Promise<[string, Record<string, NetworkSettings>]>;
  delete_vm(vmCid: string): Promise<void>;
  has_vm(vmCid: string): Promise<boolean>;
  reboot_vm(vmCid: string): Promise<void>;
  set_vm_metadata(vmCid: string, metadata: Record<string, string>): Promise<void>;
  create_disk(
    sizeMb: number,
    cloudProperties: Record<string, unknown>,
    vmLocality: string | null,
  ): Promise<string>;
  delete_disk(diskCid: string): Promise<void>;
  has_disk(diskCid: string): Promise<boolean>;
  /** v2: returns the disk hint the agent needs. */
  attach_disk(vmCid: string, diskCid: string): Promise<unknown>;
  detach_disk(vmCid: string, diskCid: string): Promise<void>;
}

/** A CPI call that failed: the message is what the task's error shows, as BOSH relays CPI errors. */
export class CpiError extends Error {
  constructor(
    readonly method: string,
    readonly type: string,
    message: string,
    readonly okToRetry = false,
  ) {
    super(message);
    this.name = 'CpiError';
  }
}

/** A CPI call that did not answer in time; the Director ends the task `timeout`. */
export class CpiTimeoutError extends CpiError {
  constructor(method: string, timeoutMs: number) {
    super(method, 'Bosh::Clouds::CloudError', `CPI '${method}' timed out after ${timeoutMs} ms`);
    this.name = 'CpiTimeoutError';
  }
}
