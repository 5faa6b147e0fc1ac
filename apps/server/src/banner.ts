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
  ];
  // A process that runs only some roles says where it expects the others, so a wrong address shows here
  // rather than as a connection error in a log.
  if (server.elsewhere.length > 0) {
    lines.push(
      'Roles run elsewhere, reached at:',
      ...server.elsewhere.map((r) => `  ${r.name.padEnd(width)}  ${r.url}   (from ${r.source})`),
      '',
    );
  }
  lines.push(
    `  CA certificate   ${server.caPath}`,
    `  data directory   ${server.dataDir}`,
    `  database         ${server.database}`,
    `  admin user       ${server.admin.username}`,
    `  admin password   ${server.admin.password}   (${server.admin.passwordSource})`,
  );
  for (const role of server.roles) {
    for (const [label, value] of Object.entries(role.banner)) lines.push(`  ${label.padEnd(16)} ${value}`);
  }
  lines.push('', 'Press Ctrl-C to stop.', '');
  return lines.join('\n');
}
