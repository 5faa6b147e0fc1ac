import type { Database } from '@openpks/db';
import type { Logger } from '@openpks/role';
import type { Clock } from './clock.js';
import type { SigningKeys } from './keys.js';

/** UAA's lockout policy (PeriodLockoutPolicy): so many failures within a window lock the account a while. */
export interface LockoutPolicy {
  lockoutAfterFailures: number;
  countFailuresWithinSeconds: number;
  lockoutPeriodSeconds: number;
}

export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = {
  lockoutAfterFailures: 5,
  countFailuresWithinSeconds: 300,
  lockoutPeriodSeconds: 300,
};

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = { minLength: 8, maxLength: 255 };

/** Everything a request handler needs; built once at start. */
export interface UaaContext {
  db: Database;
  clock: Clock;
  keys: SigningKeys;
  logger: Logger;
  /** `https://host:port`, the base of every URL the UAA advertises. */
  baseUrl: string;
  /** `<baseUrl>/oauth/token`, as UAA names itself in `iss`. */
  issuer: string;
  accessTokenValidity: number;
  refreshTokenValidity: number;
  lockout: LockoutPolicy;
  passwordPolicy: PasswordPolicy;
  /** Lifetime of a login session cookie (seconds). */
  sessionValidity: number;
}
