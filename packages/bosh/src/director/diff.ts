import { parseDocument, stringify } from 'yaml';

export type DiffLine = [string, 'added' | 'removed' | null];

/**
 * The Director's manifest diff (`POST /deployments/:name/diff`): both manifests normalised to YAML,
 * then compared line by line (longest common subsequence), in the `[line, added|removed|null]` form the
 * bosh CLI prints.
 */
export function diffManifests(before: string | undefined, after: string): DiffLine[] {
  const normalise = (text: string | undefined) =>
    text === undefined || text.trim() === ''
      ? []
      : stringify(parseDocument(text).toJS() ?? {})
          .trimEnd()
          .split('\n');
  const a = normalise(before);
  const b = normalise(after);
  const lengths: number[][] = Array.from({ length: a.length + 1 }, () =>
    new Array<number>(b.length + 1).fill(0),
  );
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i]![j] =
        a[i] === b[j] ? lengths[i + 1]![j + 1]! + 1 : Math.max(lengths[i + 1]![j]!, lengths[i]![j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push([a[i]!, null]);
      i++;
      j++;
    } else if (lengths[i + 1]![j]! >= lengths[i]![j + 1]!) {
      out.push([a[i++]!, 'removed']);
    } else {
      out.push([b[j++]!, 'added']);
    }
  }
  while (i < a.length) out.push([a[i++]!, 'removed']);
  while (j < b.length) out.push([b[j++]!, 'added']);
  return out;
}
