import type { ArgDef, ArgsDef } from "citty";
import { UsageError } from "./errors.ts";
import { closestNames, didYouMean } from "./suggest.ts";

/** A whole-number flag's range; `example` goes into the hint of a bad value. */
export interface WholeNumberRange {
  min: number;
  max?: number;
  unit?: string;
  example: number;
}

/** A string flag whose value the dispatcher checks as a whole number before the command runs. */
export interface WholeNumberArgDef {
  type: "string";
  description: string;
  valueHint: string;
  wholeNumber: WholeNumberRange;
}

/** A string flag whose value the dispatcher checks against its choices before the command runs. */
export interface ChoiceArgDef<C extends string> {
  type: "string";
  description: string;
  valueHint: string;
  choices: readonly C[];
}

export function wholeNumberArg(description: string, valueHint: string, range: WholeNumberRange): WholeNumberArgDef {
  return { type: "string", description, valueHint, wholeNumber: range };
}

export function choiceArg<const C extends string>(description: string, choices: readonly C[]): ChoiceArgDef<C> {
  return { type: "string", description, valueHint: choices.join("|"), choices };
}

/** Parse a whole number flag (seconds, a count, a port) within its range; undefined when not given. */
export function parseWholeNumber(flag: string, value: string | undefined, range: WholeNumberRange): number | undefined {
  if (value === undefined || value === "") return undefined;
  const { min, max, unit, example } = range;
  // Digits only: Number() would also take "1e3", "0x10", " 5" and "".
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isSafeInteger(number) && number >= min && (max === undefined || number <= max)) return number;
  const bounds = max === undefined ? `at least ${min}` : `from ${min} to ${max}`;
  throw new UsageError(
    `--${flag} must be a whole number${unit ? ` of ${unit}` : ""}, ${bounds} (got ${JSON.stringify(value)})`,
    `for example --${flag} ${example}`,
  );
}

/** Parse a choice flag, or fail with the allowed values. */
export function parseChoice<const C extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly C[],
  fallback: C,
): C {
  if (value === undefined || value === "") return fallback;
  if ((choices as readonly string[]).includes(value)) return value as C;
  throw new UsageError(
    `--${flag} must be one of ${choices.join(", ")} (got ${JSON.stringify(value)})`,
    `pick one: ${choices.map((choice) => `--${flag}=${choice}`).join(" or ")}`,
  );
}

interface Flag {
  name: string;
  def: ArgDef;
}

const toArray = (alias: string | string[] | undefined) => (alias === undefined ? [] : [alias].flat());

/** What the next word may be to count as a flag's value: not a flag itself, unless a negative number (`--limit -3`). */
const isValueWord = (word: string | undefined) =>
  word !== undefined && word !== "--" && (!word.startsWith("-") || word === "-" || /^-\d/.test(word));

/**
 * The one check of a command line, made by the dispatcher before the command runs: every flag is
 * one of the command's (a long name with `--`, a one-letter alias with `-`, `--no-<flag>` for a
 * boolean), every value is there and valid, and there are no more positional words than the command
 * takes (a positional whose valueHint ends in "…" takes any number). Words after `--` are the
 * command's and are never read as flags. Returns the command line rewritten for citty with no room
 * for its guessing: each flag as `--name`, `--no-name` or `--name=value`, then `--` and the words.
 */
export function checkCommandLine(command: string, args: ArgsDef, words: readonly string[]): string[] {
  const long = new Map<string, Flag>();
  const short = new Map<string, Flag>();
  const positionals: [string, ArgDef][] = [];
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") {
      positionals.push([name, def]);
      continue;
    }
    long.set(name, { name, def });
    for (const alias of toArray("alias" in def ? def.alias : undefined))
      (alias.length === 1 ? short : long).set(alias, { name, def });
  }
  const help = `run protocol ${command} --help to see its flags`;
  const variadic = positionals.find(([, def]) => def.valueHint?.endsWith("…"));

  const unknownFlag = (shown: string, spelled: string) => {
    const candidates = [...long.keys(), ...[...long.values()].flatMap(negations)];
    const suggestion = didYouMean(closestNames(spelled, candidates).map((name) => `--${name}`));
    if (suggestion)
      return new UsageError(
        `unknown flag ${shown} for protocol ${command}`,
        `${suggestion} (protocol ${command} --help lists its flags)`,
      );
    // exec, restart, config:cp: the word may belong to the command protocol runs.
    const passOn = variadic
      ? `, or put -- before the words that are not protocol's: protocol ${command} -- <${variadic[1].valueHint}>`
      : "";
    return new UsageError(`unknown flag ${shown} for protocol ${command}`, `${help}${passOn}`);
  };

  const switches = new Map<string, boolean>();
  const flags: string[] = [];
  const values: string[] = [];
  const given = new Set<string>();
  let i = 0;
  const take = () => (isValueWord(words[i + 1]) ? words[++i] : undefined);

  const apply = (flag: Flag, negated: boolean, inline: string | undefined, shown: string) => {
    if (flag.def.type === "boolean") {
      // The last one wins (--json --no-json); citty would turn a repeated flag into an array.
      switches.set(flag.name, readBoolean(flag.name, negated, inline, shown));
      return;
    }
    const value = inline ?? take();
    const hint = flag.def.valueHint ?? "value";
    if (value === undefined || value === "")
      throw new UsageError(
        `${shown} needs a value`,
        `pass ${shown} <${hint}> (a value that starts with "-" as ${shown}=<${hint}>)`,
      );
    if (given.has(flag.name)) throw new UsageError(`--${flag.name} is given twice`, `pass --${flag.name} once`);
    given.add(flag.name);
    checkValue(flag, value);
    flags.push(`--${flag.name}=${value}`);
  };

  for (; i < words.length; i++) {
    const word = words[i] as string;
    if (word === "--") break;
    if (word === "-" || !word.startsWith("-")) {
      values.push(word);
      continue;
    }
    const dashes = word.startsWith("--") ? 2 : 1;
    const body = word.slice(dashes);
    const eq = body.indexOf("=");
    const spelled = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    const shown = word.slice(0, dashes + spelled.length);
    if (dashes === 2) {
      const flag = long.get(spelled);
      const negated = !flag && spelled.startsWith("no-") ? long.get(spelled.slice(3)) : undefined;
      if (flag) apply(flag, false, inline, shown);
      else if (negated?.def.type === "boolean") apply(negated, true, inline, shown);
      else throw unknownFlag(shown, spelled);
      continue;
    }
    // -y, -m msg, -m=msg, and a cluster of one-letter booleans (-yv); the last letter may take a value.
    const letters = [...spelled];
    if (!short.has(letters[0] as string)) throw unknownFlag(shown, spelled);
    for (const [at, letter] of letters.entries()) {
      const flag = short.get(letter);
      const last = at === letters.length - 1;
      if (!flag || (!last && flag.def.type !== "boolean"))
        throw unknownFlag(`-${letter}${letters.length > 1 ? ` (in ${shown})` : ""}`, letter);
      apply(flag, false, last ? inline : undefined, `-${letter}`);
    }
  }
  const all = [...values, ...words.slice(i + 1)];

  if (!variadic && all.length > positionals.length) {
    const takes =
      positionals.length === 0
        ? "takes no arguments"
        : `takes ${positionals.length === 1 ? "one argument" : `${positionals.length} arguments`}, ${positionals.map(shape).join(" ")}`;
    throw new UsageError(
      `unexpected argument ${JSON.stringify(all[positionals.length])} for protocol ${command}`,
      `protocol ${command} ${takes}; ${help}`,
    );
  }
  for (const [at, [, def]] of positionals.entries()) {
    if (all.length <= at && def.required !== false && def.default === undefined)
      throw new UsageError(`protocol ${command} needs ${shape([undefined, def])}`, help);
  }
  for (const { name, def } of long.values()) {
    if (def.type === "string" && def.required && def.default === undefined && !given.has(name))
      throw new UsageError(`protocol ${command} needs --${name} <${def.valueHint ?? "value"}>`, help);
  }
  const booleans = [...switches].map(([name, on]) => (on ? `--${name}` : `--no-${name}`));
  return [...booleans, ...flags, "--", ...all];
}

/** `<env>` for a required positional, `[env]` for an optional one. */
function shape([name, def]: [string | undefined, ArgDef]): string {
  const word = def.valueHint ?? name ?? "arg";
  return def.type === "positional" && def.required === false ? `[${word}]` : `<${word}>`;
}

/** `--no-<flag>` for the booleans that are on by default (start --no-cron): the ones worth suggesting. */
function negations({ name, def }: Flag): string[] {
  return def.type === "boolean" && def.default === true ? [`no-${name}`] : [];
}

/** `--json`, `--no-json`, `--json=true` and `--json=false`; any other value is a mistake, not a guess. */
function readBoolean(name: string, negated: boolean, inline: string | undefined, shown: string): boolean {
  if (inline === undefined) return !negated;
  if (!negated && (inline === "true" || inline === "false")) return inline === "true";
  throw new UsageError(
    `${shown} takes no value (got ${JSON.stringify(inline)})`,
    `pass --${name} or --no-${name}${negated ? "" : ` (--${name}=true and --${name}=false work too)`}`,
  );
}

function checkValue({ name, def }: Flag, value: string): void {
  const checked = def as Partial<WholeNumberArgDef & ChoiceArgDef<string>>;
  if (checked.wholeNumber) parseWholeNumber(name, value, checked.wholeNumber);
  if (checked.choices) parseChoice(name, value, checked.choices, checked.choices[0] as string);
}
