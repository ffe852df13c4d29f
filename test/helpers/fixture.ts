import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const REPO_ROOT = join(import.meta.dir, "..", "..");
export const CLI = join(REPO_ROOT, "src", "cli.ts");
export const FAKE_DOCKER_DIR = join(REPO_ROOT, "test", "fixtures", "fake-docker");
/** Where test/preload.ts puts a docker and a docker-compose that refuse (before the real ones). */
export const NO_DOCKER_DIR = join(REPO_ROOT, "test", "fixtures", "no-docker");

/** PATH with the machine's own docker reachable again: for the e2e tier only, which says so. */
export function pathWithRealDocker(path = process.env.PATH ?? ""): string {
  return path
    .split(":")
    .filter((dir) => dir !== NO_DOCKER_DIR)
    .join(":");
}

/**
 * How tests run protocol: the binary scripts/test.ts compiled for this run (PROTOCOL_TEST_CLI; it
 * starts in a third of the CPU of `bun src/cli.ts`, and the suite spawns it about a thousand
 * times), else from source (a single file run with bun test). Tests about running from source
 * spawn `[process.execPath, CLI]` themselves.
 */
export function cliArgv(): string[] {
  const binary = process.env.PROTOCOL_TEST_CLI;
  return binary ? [binary] : [process.execPath, CLI];
}

export interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run a program (tests may spawn directly; src/ goes through src/lib/spawn.ts). */
export async function sh(
  argv: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {},
): Promise<Run> {
  const child = Bun.spawn(argv, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdin: options.input === undefined ? "ignore" : new Blob([options.input]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr };
}

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const result = await sh(["git", ...args], { cwd });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * A bare remote, a seed clone that pushes to it (the developer) and a node clone (the server),
 * in one temp dir with its own state dir and crontab. `await using` cleans up, stopping any loop.
 */
export class Fixture {
  readonly root: string;
  readonly remote: string;
  readonly seed: string;
  readonly node: string;
  readonly env: Record<string, string>;

  private constructor(root: string, nodeName: string) {
    this.root = root;
    this.remote = join(root, "remote.git");
    this.seed = join(root, "seed");
    this.node = join(root, nodeName);
    this.env = {
      PROTOCOL_HOME: join(root, "state"),
      FAKE_CRONTAB: join(root, "crontab"),
      FAKE_DOCKER_LOG: join(root, "docker.log"),
    };
  }

  static async create(options: { nodeName?: string; files?: Record<string, string> } = {}): Promise<Fixture> {
    const fixture = new Fixture(mkdtempSync(join(tmpdir(), "protocol-fx-")), options.nodeName ?? "node");
    await git(fixture.root, "init", "--quiet", "--bare", "--initial-branch=main", fixture.remote);
    await git(fixture.root, "clone", "--quiet", fixture.remote, fixture.seed);
    await fixture.commit({ "README.md": "hello\n", ...options.files }, "initial");
    await git(fixture.root, "clone", "--quiet", fixture.remote, fixture.node);
    return fixture;
  }

  /** Commit files in the seed clone and push them; returns the new commit. */
  async push(files: Record<string, string>, message = "change"): Promise<string> {
    return this.commit(files, message);
  }

  private async commit(files: Record<string, string>, message: string): Promise<string> {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(this.seed, path)), { recursive: true });
      writeFileSync(join(this.seed, path), content);
    }
    await git(this.seed, "add", "--all");
    await git(this.seed, "commit", "--quiet", "--allow-empty", "-m", message);
    await git(this.seed, "push", "--quiet", "origin", "HEAD:main");
    return git(this.seed, "rev-parse", "HEAD");
  }

  async head(dir = this.node): Promise<string> {
    return git(dir, "rev-parse", "HEAD");
  }

  /** Run the CLI from source against this fixture's state dir and crontab. */
  async cli(
    args: string[],
    options: { env?: Record<string, string | undefined>; cwd?: string; fakeDocker?: boolean } = {},
  ): Promise<Run> {
    const path = options.fakeDocker ? `${FAKE_DOCKER_DIR}:${process.env.PATH}` : process.env.PATH;
    return sh([...cliArgv(), ...args], {
      cwd: options.cwd ?? this.root,
      env: { ...this.env, PATH: path, ...options.env },
    });
  }

  /** Docker invocations recorded by the fake docker, one argv per call. */
  dockerCalls(): string[][] {
    try {
      return readFileSync(this.env.FAKE_DOCKER_LOG ?? "", "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line: string) => JSON.parse(line));
    } catch {
      return [];
    }
  }

  /** What the fake docker read on stdin (`login --password-stdin`), with the argv it was given. */
  dockerStdin(): Array<{ argv: string[]; stdin: string }> {
    try {
      return readFileSync(`${this.env.FAKE_DOCKER_LOG}.stdin`, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line: string) => JSON.parse(line));
    } catch {
      return [];
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cli(["git:slave:stop", "--dir", this.node]).catch(() => undefined);
    await this.cli(["config:slave:stop", "--dir", this.node]).catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Poll until `check` is true or the time is up; returns whether it became true. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
  stepMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(stepMs);
  }
  return check();
}
