/**
 * Runs before any test file imports src/: every test gets a throwaway HOME, state dir, git config
 * and temp dir, a fake crontab (never the real one), and no colour. All of it lives under one root
 * that is removed after the last test file (bun test runs no 'exit' handlers, so nothing else would).
 */
import { afterAll } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const root = mkdtempSync(join(tmpdir(), "protocol-test-home-"));
// The ssh test server runs its gate as the git user, which must walk into fixtures under here.
chmodSync(root, 0o755);
// Every mkdtemp(tmpdir()) of the tests (fixtures, builds of the binary) goes under the root too.
const tmp = join(root, "tmp");
mkdirSync(tmp);
afterAll(() => rmSync(root, { recursive: true, force: true }));
const home = join(root, "home");
mkdirSync(home, { recursive: true });
// The fakes' `#!/usr/bin/env bun` must find this bun, whatever its file is called (npm's is bun.exe).
const bunBin = join(root, "bin");
mkdirSync(bunBin);
symlinkSync(process.execPath, join(bunBin, "bun"));
const gitconfig = join(root, "gitconfig");
writeFileSync(
  gitconfig,
  "[user]\n\tname = Protocol Test\n\temail = test@protocol.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
);

Object.assign(process.env, {
  TMPDIR: tmp,
  HOME: home,
  XDG_STATE_HOME: join(root, "state"),
  XDG_CONFIG_HOME: join(root, "config"),
  PROTOCOL_HOME: join(root, "protocol"),
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: gitconfig,
  GIT_AUTHOR_DATE: undefined,
  NO_COLOR: "1",
  FAKE_CRONTAB: join(root, "crontab"),
  // The fixtures' crontab comes first, so no test ever edits the machine's real crontab; then docker
  // and docker-compose that refuse, before every directory that is not the fixtures' (bun's own
  // dir may be /usr/local/bin, beside a real docker), so a test that did not put the fake docker
  // (or, in the e2e tier, the real PATH) first can never reach a real one; then the link to this
  // bun for the fakes' `#!/usr/bin/env bun`.
  PATH: [
    join(import.meta.dir, "fixtures", "bin"),
    join(import.meta.dir, "fixtures", "no-docker"),
    bunBin,
    dirname(process.execPath),
    process.env.PATH,
  ].join(":"),
});
delete process.env.GIT_AUTHOR_DATE;
