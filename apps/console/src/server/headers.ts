/**
 * The console's response security headers. Scripts run only with this response's nonce ('strict-dynamic'
 * lets Next's own loader add its chunks); workers (the GraphQL explorer's editor) come only from the
 * console's own bundle; every fetch and WebSocket goes to the console itself; forms may
 * post only here and to the UAA (sign-in and sign-out end there); nothing may frame the console.
 */
export function securityHeaders(options: {
  nonce: string;
  uaaOrigin: string;
  secure: boolean;
}): Record<string, string> {
  const csp = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${options.nonce}' 'strict-dynamic'`,
    // React sets style attributes (progress bar widths); no third-party styles are loaded.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    // GraphiQL's stylesheet carries its fonts inline as data: URLs (fonts run no code).
    "font-src 'self' data:",
    // 'strict-dynamic' makes script-src ignore 'self', and workers fall back to it: name them here.
    "worker-src 'self'",
    "connect-src 'self'",
    `form-action 'self' ${options.uaaOrigin}`,
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
  ].join('; ');
  return {
    'Content-Security-Policy': csp,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
    'Cross-Origin-Opener-Policy': 'same-origin',
    ...(options.secure ? { 'Strict-Transport-Security': 'max-age=31536000' } : {}),
  };
}
