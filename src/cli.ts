#!/usr/bin/env bun
import { runMain } from "./lib/main.ts";

// No top-level await: the compiled binary is built with bytecode, which needs a script without it.
void runMain();
