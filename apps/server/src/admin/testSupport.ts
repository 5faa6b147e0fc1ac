import { Writable } from 'node:stream';

/** A stream that keeps what is written to it: pks-admin's stdout or stderr in tests. */
export function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}
