import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Fixture, git } from "./fixture.ts";

/**
 * A Fixture (app remote, seed, node) plus a config repo: a bare config remote whose first branch is
 * `production`, a seed clone that pushes to it (the operator's laptop), and the node's clone at
 * the default place, `<node>-config` beside the app. The app dir's name has a space by default.
 */
export class ConfigFixture {
  readonly configRemote: string;
  readonly configSeed: string;
  readonly config: string;

  private constructor(readonly fx: Fixture) {
    this.configRemote = join(fx.root, "config.git");
    this.configSeed = join(fx.root, "config-seed");
    this.config = `${fx.node}-config`;
  }

  get node(): string {
    return this.fx.node;
  }

  static async create(
    options: {
      nodeName?: string;
      appFiles?: Record<string, string>;
      config?: Record<string, string>;
      clone?: boolean;
    } = {},
  ): Promise<ConfigFixture> {
    const fx = await Fixture.create({ nodeName: options.nodeName ?? "shop app", files: options.appFiles });
    const cf = new ConfigFixture(fx);
    await git(fx.root, "init", "--quiet", "--bare", "--initial-branch=production", cf.configRemote);
    await git(fx.root, "clone", "--quiet", cf.configRemote, cf.configSeed);
    await git(cf.configSeed, "switch", "--quiet", "--orphan", "production");
    await cf.pushConfig(
      options.config ?? { ".env": "SECRET=hunter2\n", "nginx.d/site.conf": "server {}\n" },
      "production config",
    );
    if (options.clone !== false) await git(fx.root, "clone", "--quiet", cf.configRemote, cf.config);
    return cf;
  }

  /** Commit files (null deletes one) on a branch of the config seed and push it; returns the commit. */
  async pushConfig(
    files: Record<string, string | null>,
    message = "config change",
    branch = "production",
  ): Promise<string> {
    const current = await git(this.configSeed, "branch", "--show-current");
    if (current !== branch) {
      const exists = (await git(this.configSeed, "branch", "--list", branch)) !== "";
      await git(this.configSeed, "switch", "--quiet", ...(exists ? [branch] : ["-c", branch]));
    }
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.configSeed, path);
      if (content === null) await git(this.configSeed, "rm", "--quiet", "--", path);
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
    await git(this.configSeed, "add", "--all");
    await git(this.configSeed, "commit", "--quiet", "--allow-empty", "-m", message);
    await git(this.configSeed, "push", "--quiet", "origin", `HEAD:${branch}`);
    return git(this.configSeed, "rev-parse", "HEAD");
  }

  cli(args: string[], options: Parameters<Fixture["cli"]>[1] = {}) {
    return this.fx.cli(args, options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.fx[Symbol.asyncDispose]();
  }
}
