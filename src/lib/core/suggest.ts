/**
 * "Did you mean": the names closest to a misspelt word. Pure, so the rule is tested from a table.
 * Distance is optimal string alignment (Damerau-Levenshtein where a transposition counts as one
 * edit: "strat" is one edit from "start"), compared without case.
 */
export function editDistance(a: string, b: string): number {
  const width = b.length + 1;
  const table = new Array<number>((a.length + 1) * width).fill(0);
  const at = (i: number, j: number) => table[i * width + j] ?? 0;
  for (let i = 0; i <= a.length; i++) table[i * width] = i;
  for (let j = 0; j <= b.length; j++) table[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      table[i * width + j] = best;
    }
  }
  return at(a.length, b.length);
}

/** Up to two edits away (one for words of three letters or fewer, where two edits reach almost anything). */
function maxDistance(word: string): number {
  return word.length <= 3 ? 1 : 2;
}

/** The candidates nearest to `word` within the allowed distance, best first (at most three). */
export function closestNames(word: string, candidates: readonly string[]): string[] {
  const lower = word.toLowerCase();
  const scored = candidates
    .map((name) => ({ name, distance: editDistance(lower, name.toLowerCase()) }))
    .filter(({ distance }) => distance <= maxDistance(lower))
    .sort((a, b) => a.distance - b.distance);
  const best = scored[0]?.distance;
  return scored
    .filter(({ distance }) => distance === best)
    .map(({ name }) => name)
    .slice(0, 3);
}

/**
 * A misspelt command: the nearest names, else the commands of that family or with that last part
 * (`deploy` → deploy:log, deploy:rollback; `pull` → git:pull, docker:pull).
 */
export function suggestCommands(word: string, names: readonly string[]): string[] {
  const close = closestNames(word, names);
  if (close.length > 0) return close;
  const lower = word.toLowerCase();
  return names.filter((name) => name.startsWith(`${lower}:`) || name.split(":").includes(lower)).slice(0, 3);
}

/** `did you mean a?`, `did you mean a or b?`, or undefined when there is nothing to suggest. */
export function didYouMean(suggestions: readonly string[]): string | undefined {
  if (suggestions.length === 0) return undefined;
  const last = suggestions.at(-1);
  const list = suggestions.length === 1 ? last : `${suggestions.slice(0, -1).join(", ")} or ${last}`;
  return `did you mean ${list}?`;
}
