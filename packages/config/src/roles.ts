/** The roles `pks-server` can run, each with its default port (DESIGN.md §1). */
export const Role = {
  UAA: 'uaa',
  API: 'api',
  BROKER: 'broker',
  DIRECTOR: 'director',
  NSX: 'nsx',
  /** The web console: plain HTTP (the browser's origin), unlike the HTTPS roles. */
  CONSOLE: 'console',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export const ROLES: readonly Role[] = Object.values(Role);

export const DEFAULT_PORTS: Readonly<Record<Role, number>> = {
  uaa: 8443,
  api: 9021,
  broker: 8080,
  director: 25555,
  nsx: 8444,
  console: 3000,
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
