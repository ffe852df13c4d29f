import { describe, expect } from "bun:test";
import { existsSync } from "node:fs";
import pkg from "../../package.json" with { type: "json" };
import { builtBinary } from "../helpers/binary.ts";
import { sh } from "../helpers/fixture.ts";
import { testNeeding } from "../helpers/needs.ts";

const qemu = Bun.which("qemu-aarch64-static");
const sysroot = "/usr/aarch64-linux-gnu";
const missing = !qemu
  ? "qemu-aarch64-static is not installed"
  : !existsSync(sysroot)
    ? `${sysroot} is missing (libc6-arm64-cross)`
    : null;

describe("the linux-arm64 build (under qemu)", () => {
  testNeeding(missing && `${missing} (apt-get install qemu-user-static libc6-arm64-cross)`)(
    "prints its version and lists the commands",
    async () => {
      const binary = await builtBinary("linux-arm64");
      const version = await sh([qemu!, "-L", sysroot, binary, "--version"]);
      expect(version.exitCode).toBe(0);
      expect(version.stdout.trim()).toBe(pkg.version);
      const list = await sh([qemu!, "-L", sysroot, binary, "list"]);
      expect(list.exitCode).toBe(0);
      expect(list.stdout).toContain("self:update");
    },
  );
});
