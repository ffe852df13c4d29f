/**
 * git's rules for a branch name (`git check-ref-format --branch`), as a pure function, so a name
 * from protocol.json, a remote's HEAD or an environment is checked before it reaches a refspec.
 * Returns what is wrong, or null.
 */
export function branchNameProblem(name: string): string | null {
  if (name === "" || name === "@") return "is empty or @";
  if (name.startsWith("-")) return "starts with '-'";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: git refuses control characters; so does protocol.
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(name))
    return "contains a space, a control character or one of ~ ^ : ? * [ \\";
  if (name.includes("..")) return "contains '..'";
  if (name.includes("@{")) return "contains '@{'";
  if (name.includes("//") || name.startsWith("/") || name.endsWith("/")) return "has an empty path component";
  if (name.endsWith(".")) return "ends with '.'";
  for (const part of name.split("/")) {
    if (part.startsWith(".")) return "has a component that starts with '.'";
    if (part.endsWith(".lock")) return "has a component that ends with '.lock'";
  }
  return null;
}
