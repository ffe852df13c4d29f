import { cliArgv } from "./fixture.ts";

export interface TerminalRun {
  exitCode: number;
  /** Everything the terminal showed. */
  screen: string;
}

/**
 * Run the CLI on a real pseudo-terminal (Bun.Terminal, 200×50). `onScreen` sees the screen so far
 * after each chunk and may type into the terminal. Killed (exit -1) after 20 s.
 */
export async function runOnTerminal(
  args: string[],
  options: {
    cwd: string;
    env: Record<string, string | undefined>;
    onScreen?: (screen: string, type: (text: string) => void) => void;
  },
): Promise<TerminalRun> {
  let screen = "";
  const child = Bun.spawn([...cliArgv(), ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    terminal: {
      cols: 200,
      rows: 50,
      data(terminal, data) {
        screen += new TextDecoder().decode(data);
        options.onScreen?.(screen, (text) => terminal.write(text));
      },
    },
  });
  const exitCode = await Promise.race([child.exited, Bun.sleep(20_000).then(() => -1)]);
  if (exitCode === -1) child.kill();
  child.terminal?.close();
  return { exitCode, screen };
}
