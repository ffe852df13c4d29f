#!/usr/bin/env bun
import { printText } from "./lib/core/output.ts";
import { findCommandName, renderRootUsage } from "./usage.ts";
import { VERSION } from "./version.ts";

// --version and the root --help answer here, before citty, consola, valibot or any command module
// loads: they are what scripts and newcomers run most, and each module costs start-up time.
// No top-level await: the compiled binary is built with bytecode, which needs a script without it.
const argv = process.argv.slice(2);
if (argv[0] === "--version" || argv[0] === "-v") {
  printText(VERSION);
} else if (findCommandName(argv) === undefined) {
  printText(renderRootUsage());
  if (!argv.includes("--help") && !argv.includes("-h")) {
    // Flags and no command (protocol --json, protocol --dir /srv/app): say so, as any usage error does.
    if (argv.length > 0) {
      console.error(`error: no command in "protocol ${argv.join(" ")}"`);
      console.error("hint:  name one of the commands above, e.g. protocol status");
    }
    process.exitCode = 2;
  }
} else if (argv[0] === "git:slave" && argv.includes("--foreground")) {
  // The background loop as protocol starts it: loop.ts runs it without the dispatcher (bench/memory.ts).
  void import("./loop.ts").then((loop) => loop.runLoop(argv));
} else {
  void import("./main.ts").then((main) => main.runMain(argv));
}
