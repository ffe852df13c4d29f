import { fstatSync, statSync } from "node:fs";

const terminals = new Map<number, boolean>();

/**
 * Whether a file descriptor is a terminal, decided without node:tty or process.stdout/stderr:
 * either loads Node's net and stream modules, about 6 ms and 10 ms of every start-up
 * (bench/startup.ts). A terminal is a character device that is not /dev/null.
 */
export function isTerminal(fd: number): boolean {
  let known = terminals.get(fd);
  if (known === undefined) {
    try {
      const stat = fstatSync(fd);
      known = stat.isCharacterDevice() && stat.rdev !== statSync("/dev/null").rdev;
    } catch {
      known = false;
    }
    terminals.set(fd, known);
  }
  return known;
}

/** Colour only on a terminal and without NO_COLOR. */
export function useColor(fd: number): boolean {
  return !process.env.NO_COLOR && isTerminal(fd);
}

const paint =
  (open: number, close: number, fd: number) =>
  (text: string): string =>
    useColor(fd) ? `\x1b[${open}m${text}\x1b[${close}m` : text;

/** The few ANSI styles protocol uses, for stderr (messages) and stdout (usage). */
export const styles = {
  red: paint(31, 39, 2),
  green: paint(32, 39, 2),
  yellow: paint(33, 39, 2),
  cyan: paint(36, 39, 2),
  dim: paint(2, 22, 2),
  bold: paint(1, 22, 1),
  gray: paint(90, 39, 1),
  underline: paint(4, 24, 1),
};
