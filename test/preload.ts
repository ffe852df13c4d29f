/**
 * Runs before any test file imports src/: every test gets a throwaway HOME, state dir and git
 * config, a fake crontab (never the real one), and no colour.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const root = mkdtempSync(join(tmpdir(), "protocol-test-home-"));
const home = join(root, "home");
mkdirSync(home, { recursive: true });
const gitconfig = join(root, "gitconfig");
writeFileSync(
  gitconfig,
  "[user]\n\tname = Protocol Test\n\temail = test@protocol.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
);

Object.assign(process.env, {
  HOME: home,
  XDG_STATE_HOME: join(root, "state"),
  XDG_CONFIG_HOME: join(root, "config"),
  PROTOCOL_HOME: join(root, "protocol"),
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: gitconfig,
  GIT_AUTHOR_DATE: undefined,
  NO_COLOR: "1",
  FAKE_CRONTAB: join(root, "crontab"),
  // The fixtures' crontab comes first, so no test ever edits the machine's real crontab; bun's dir
  // is on PATH for the fakes' `#!/usr/bin/env bun`.
  PATH: [join(import.meta.dir, "fixtures", "bin"), dirname(process.execPath), process.env.PATH].join(":"),
});
delete process.env.GIT_AUTHOR_DATE;
