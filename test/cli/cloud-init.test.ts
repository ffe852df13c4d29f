import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliArgv, sh } from "../helpers/fixture.ts";
import { testNeeding } from "../helpers/needs.ts";

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "protocol-cloud-init-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----\n";
const cloudInit = Bun.which("cloud-init");
const shellcheck = Bun.which("shellcheck");

const CONFIG_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nY29uZmlnLWtleQ==\n-----END OPENSSH PRIVATE KEY-----\n";

/** protocol cloud-init for the shop app and its config repo, with the app's key and (unless not) the config repo's. */
async function cloudInitRun(options: { configKey?: boolean } = {}) {
  const keyFile = join(dir, "deploy_key");
  writeFileSync(keyFile, KEY, { mode: 0o600 });
  const configKeyFile = join(dir, "config_key");
  writeFileSync(configKeyFile, CONFIG_KEY, { mode: 0o600 });
  return sh([
    ...cliArgv(),
    "cloud-init",
    "--repo",
    "git@github.com:acme/shop.git",
    "--branch",
    "main",
    "--env",
    "production",
    "--config-repo",
    "git@github.com:acme/shop-config.git",
    "--deploy-key-file",
    keyFile,
    ...(options.configKey === false ? [] : ["--config-deploy-key-file", configKeyFile]),
  ]);
}

async function userData(): Promise<string> {
  const run = await cloudInitRun();
  expect(run.exitCode).toBe(0);
  expect(run.stderr).toContain("read-only");
  return run.stdout;
}

describe("cloud-init", () => {
  testNeeding(cloudInit ? null : "cloud-init is not installed (apt-get install cloud-init)")(
    "prints user-data with two keys that cloud-init's schema accepts",
    async () => {
      const file = join(dir, "user-data.yaml");
      writeFileSync(file, await userData());
      const run = await sh([cloudInit!, "schema", "--config-file", file]);
      expect(run.stdout + run.stderr).toContain("Valid");
      expect(run.exitCode).toBe(0);
    },
  );

  testNeeding(shellcheck ? null : "shellcheck is not installed (apt-get install shellcheck)")(
    "the bootstrap script it writes passes shellcheck",
    async () => {
      const text = await userData();
      const files = (Bun.YAML.parse(text) as { write_files: { path: string; content: string }[] }).write_files;
      const script = join(dir, "bootstrap.sh");
      writeFileSync(script, files.find((file) => file.path === "/usr/local/sbin/protocol-bootstrap")!.content);
      const run = await sh([shellcheck!, script]);
      expect(run.stdout + run.stderr).toBe("");
    },
  );

  test("an ssh config repo without a key of its own gets a warning: the app's key will not clone it", async () => {
    const run = await cloudInitRun({ configKey: false });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain("without --config-deploy-key-file: a deploy key belongs to one repo");
  });

  test("a missing key file is a precondition error; a missing --repo a usage error", async () => {
    const missing = await sh([
      ...cliArgv(),
      "cloud-init",
      "--repo",
      "git@github.com:a/b.git",
      "--deploy-key-file",
      join(dir, "nope"),
    ]);
    expect(missing.exitCode).toBe(4);
    const noRepo = await sh([...cliArgv(), "cloud-init"]);
    expect(noRepo.exitCode).toBe(2);
  });
});
