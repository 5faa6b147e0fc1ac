import type { RunningServer } from './server.js';

/** The start-up summary a person reads: where everything is, and how to log in. */
export function formatBanner(server: RunningServer): string {
  const width = Math.max(...server.roles.map((r) => r.name.length), 8);
  const lines = [
    '',
    'openpks is running',
    '',
    ...server.roles.map((role) => `  ${role.name.padEnd(width)}  ${role.url}`),
    '',
    `  CA certificate   ${server.caPath}`,
    `  data directory   ${server.dataDir}`,
    `  database         ${server.database}`,
    `  admin user       ${server.admin.username}`,
    `  admin password   ${server.admin.password}   (${server.admin.passwordSource})`,
  ];
  for (const role of server.roles) {
    for (const [label, value] of Object.entries(role.banner)) lines.push(`  ${label.padEnd(16)} ${value}`);
  }
  lines.push('', 'Press Ctrl-C to stop.', '');
  return lines.join('\n');
}
