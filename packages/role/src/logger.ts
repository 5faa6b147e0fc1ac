import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type Logger = PinoLogger;

export interface LoggerOptions {
  level: LevelWithSilent;
  /** `auto` pretty-prints on a TTY and writes JSON lines otherwise. */
  pretty: boolean | 'auto';
  /** Where JSON lines go (default stdout). */
  destination?: NodeJS.WritableStream;
}

/** Field names whose values never reach a log line. */
const REDACTED = [
  'password',
  '*.password',
  'client_secret',
  '*.client_secret',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

/** Structured JSON logs (pino); pretty on a terminal. Secrets are redacted by field name. */
export function createLogger({ level, pretty: prettyMode, destination }: LoggerOptions): Logger {
  const stream = destination ?? process.stdout;
  const usePretty = prettyMode === 'auto' ? Boolean((stream as NodeJS.WriteStream).isTTY) : prettyMode;
  const options = { level, redact: { paths: REDACTED, censor: '[redacted]' }, base: { pid: process.pid } };
  if (usePretty) {
    return pino(options, pretty({ destination: stream, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino(options, stream as NodeJS.WritableStream & { write(chunk: string): boolean });
}
