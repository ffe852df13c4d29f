/** The user's global git config, where protocol keeps one kind of rule: url.<alias>.insteadOf. */
import { git, gitOutput } from "./git.ts";

/**
 * Make git use `to` wherever `from` is asked for — `url.<to>.insteadOf <from>` in the user's global
 * config — so every clone, fetch and ls-remote of that repo (protocol's or a person's) goes through
 * `to`. A rule that sent `from` elsewhere is replaced. Returns whether the config changed.
 */
export async function setGlobalInsteadOf(to: string, from: string): Promise<boolean> {
  const listed = await git({ dir: "/" }, ["config", "--global", "--get-regexp", "^url\\..*\\.insteadof$"]);
  const rules = listed.ok
    ? listed.stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const space = line.lastIndexOf(" ");
          return { key: line.slice(0, space), value: line.slice(space + 1) };
        })
    : [];
  const key = `url.${to}.insteadof`;
  if (rules.some((rule) => rule.key === key && rule.value === from)) return false;
  for (const rule of rules.filter((r) => r.value === from))
    await gitOutput({ dir: "/" }, ["config", "--global", "--fixed-value", "--unset-all", rule.key, from]);
  await gitOutput({ dir: "/" }, ["config", "--global", "--add", `url.${to}.insteadOf`, from]);
  return true;
}
