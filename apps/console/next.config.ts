import type { NextConfig } from 'next';

// The console runs behind its own small server (src/server/main.ts), which sets the security headers
// (CSP with a per-request nonce and the UAA origin, known only at run time).
const config: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  // @openpks/domain is the API's own validation, used by the create form's server action.
  serverExternalPackages: ['@openpks/domain'],
};

export default config;
