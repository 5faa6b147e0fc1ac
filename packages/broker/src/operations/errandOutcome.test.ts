import { describe, expect, it } from 'vitest';
import type { ErrandResult } from '@openpks/bosh';
import { errandFailure } from './errandOutcome.js';

const result = (exit_code: number, stderr = '', id = 'a1'): ErrandResult => ({
  instance: { group: 'apply-addons', id },
  errand_name: 'apply-addons',
  exit_code,
  stdout: 'applying specs\n',
  stderr,
  logs: { blobstore_id: '', sha1: '' },
});

describe('errand outcomes from the structured task result', () => {
  it('is no failure when every instance exited 0', () => {
    expect(errandFailure('apply-addons', 7, [result(0), result(0, 'a warning', 'a2')])).toBeUndefined();
  });

  it('names the errand, the instance, the exit code and the end of stderr', () => {
    expect(
      errandFailure('apply-addons', 7, [
        result(0),
        result(3, 'line one\nError: kube-dns spec rejected\n\n', 'b2'),
      ]),
    ).toBe(
      'errand apply-addons failed on apply-addons/b2 with exit code 3: line one Error: kube-dns spec rejected (task 7)',
    );
  });

  it('keeps only the tail of a long stderr and counts the other failed instances', () => {
    const long = `${'x'.repeat(500)}\nthe real error`;
    const failure = errandFailure('apply-addons', 9, [result(1, long, 'c1'), result(2, '', 'c2')])!;
    expect(failure).toMatch(
      /^errand apply-addons failed on apply-addons\/c1 \(and 1 more instances\) with exit code 1: …x+ the real error \(task 9\)$/,
    );
    expect(failure.length).toBeLessThan(320);
  });

  it('counts an errand that reported nothing as failed: nothing says it ran', () => {
    expect(errandFailure('drain-cluster', 4, [])).toBe('errand drain-cluster reported no result (task 4)');
  });
});
