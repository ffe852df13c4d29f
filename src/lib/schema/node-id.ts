/** What a node id may be: it names the node's ref on the status remote, so git's ref rules apply. */
export const NODE_ID_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit";

/** What is wrong with `id` as a node id, or null. Pure. */
export function nodeIdProblem(id: string): string | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id)) return `must be ${NODE_ID_RULE}`;
  if (id.includes("..") || id.endsWith(".lock") || id.endsWith("."))
    return "must not contain '..' or end with '.' or '.lock'";
  return null;
}
