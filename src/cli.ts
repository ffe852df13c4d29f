#!/usr/bin/env bun
import { runMain } from "./lib/main.ts";

await runMain();
