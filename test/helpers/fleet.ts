/**
 * Many nodes on one machine, as issue 15 asks: each its own clone, PROTOCOL_NODE_ID and
 * PROTOCOL_HOME, all following one app remote, with a status remote they push their records to.
 * Both remotes are served by `git daemon` on 127.0.0.1 (the status remote by its own, so a test
 * can take it down), each behind a counting proxy (connections = requests at the git host).
 * Docker is the fake one (its name says so), one log per node.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { wavePlace } from "../../src/lib/fleet/waves.ts";
import { cliArgv, eventually, FAKE_DOCKER_DIR, Fixture, git, type Run, sh } from "./fixture.ts";
import { type Proxy as CountingProxy, type GitDaemon, startGitDaemon, startProxy } from "./git-daemon.ts";

export interface FleetNode {
  id: string;
  dir: string;
  env: Record<string, string>;
  wave: number;
}

export class FleetFixture {
  private readonly createdAt = Date.now();
  /** When push() pushed each commit: the origin of its arrival times. */
  private readonly pushedAt = new Map<string, number>();
  /** Each commit's arrival time at each node, as first seen. */
  private readonly arrived = new Map<string, Map<string, number>>();

  private constructor(
    readonly fx: Fixture,
    readonly statusBase: string,
    private statusDaemon: GitDaemon,
    private appDaemon: GitDaemon,
    /** In front of the status remote and the app remote: their connection counts. */
    readonly statusProxy: CountingProxy,
    readonly appProxy: CountingProxy,
    readonly nodes: FleetNode[],
    readonly rollout: Record<string, unknown>,
  ) {}

  get statusUrl(): string {
    return `git://127.0.0.1:${this.statusProxy.port}/status.git`;
  }

  static async create(ids: string[], rollout: Record<string, unknown>, env: Record<string, string> = {}) {
    const fx = await Fixture.create();
    const statusBase = join(fx.root, "status-srv");
    mkdirSync(statusBase);
    await git(statusBase, "init", "--quiet", "--bare", "status.git");
    const statusDaemon = await startGitDaemon(statusBase, { push: true });
    const appDaemon = await startGitDaemon(fx.root);
    const statusProxy = await startProxy(statusDaemon.port);
    const appProxy = await startProxy(appDaemon.port);
    const full = { ...rollout, statusRemote: `git://127.0.0.1:${statusProxy.port}/status.git` };
    await fx.push({
      "protocol.json": protocolJson(full),
      "docker-compose.yml": "services:\n  app:\n    image: busybox\n",
    });
    const nodes: FleetNode[] = [];
    for (const id of ids) {
      const dir = join(fx.root, `node-${id}`);
      await git(fx.root, "clone", "--quiet", `git://127.0.0.1:${appProxy.port}/remote.git`, dir);
      nodes.push({
        id,
        dir,
        wave: wavePlace(id, full as never).wave,
        env: {
          ...env,
          PROTOCOL_NODE_ID: id,
          PROTOCOL_HOME: join(fx.root, `state-${id}`),
          FAKE_DOCKER_LOG: join(fx.root, `docker-${id}.log`),
          FAKE_DOCKER_EXEC_EXIT: JSON.stringify({ "check-bad": 1 }),
        },
      });
    }
    return new FleetFixture(fx, statusBase, statusDaemon, appDaemon, statusProxy, appProxy, nodes, full);
  }

  /** Run the CLI as this node (its id, state dir and docker log; the fake docker). */
  cli(node: FleetNode, args: string[], extra: Record<string, string> = {}): Promise<Run> {
    return sh([...cliArgv(), ...args], {
      cwd: node.dir,
      env: { ...this.fx.env, ...node.env, PATH: `${FAKE_DOCKER_DIR}:${process.env.PATH}`, ...extra },
    });
  }

  async startLoops(nodes = this.nodes): Promise<void> {
    await Promise.all(
      nodes.map(async (node) => {
        const run = await this.cli(node, ["git:slave", "--interval", "1"]);
        if (run.exitCode !== 0) throw new Error(`git:slave on ${node.id}: ${run.stderr}`);
      }),
    );
  }

  async stopLoops(nodes = this.nodes): Promise<void> {
    await Promise.all(nodes.map((node) => this.cli(node, ["git:slave:stop"])));
  }

  /** A commit on the app remote; `bad` adds a health probe that fails on every node. */
  async push(name: string, options: { bad?: boolean } = {}): Promise<string> {
    const health = options.bad
      ? { command: { service: "app", run: ["check-bad"], retries: 0 }, timeout: 5 }
      : undefined;
    const pushedAt = Date.now();
    const commit = await this.fx.push(
      { [`${name}.txt`]: `${name}\n`, "protocol.json": protocolJson(this.rollout, health) },
      name,
    );
    this.pushedAt.set(commit, pushedAt);
    return commit;
  }

  head(node: FleetNode): string {
    const ref = readFileSync(join(node.dir, ".git", "HEAD"), "utf8")
      .trim()
      .replace(/^ref: /, "");
    return readFileSync(join(node.dir, ".git", ref), "utf8").trim();
  }

  async status(node: FleetNode): Promise<Record<string, any>> {
    return JSON.parse((await this.cli(node, ["status", "--json"])).stdout);
  }

  /**
   * When each node's working copy reached `commit`, in ms after the commit was pushed (the commit
   * the nodes were cloned at: after the fleet was created), waiting at most `timeoutMs`. Every call
   * has that one origin, and a node's time is the one the first call to see it there recorded, so
   * the times of two calls (the first wave, then every node) can be compared.
   */
  async arrivals(commit: string, nodes: FleetNode[], timeoutMs: number): Promise<Map<string, number>> {
    const origin = this.pushedAt.get(commit) ?? this.createdAt;
    const recorded = this.arrived.get(commit) ?? new Map<string, number>();
    this.arrived.set(commit, recorded);
    const seen = new Map<string, number>();
    await eventually(
      () => {
        for (const node of nodes) {
          if (!recorded.has(node.id) && this.head(node) === commit) recorded.set(node.id, Date.now() - origin);
          const at = recorded.get(node.id);
          if (at !== undefined) seen.set(node.id, at);
        }
        return seen.size === nodes.length;
      },
      timeoutMs,
      50,
    );
    return seen;
  }

  /** Take the status remote down (connections refused) or bring it back on the same port. */
  async statusRemoteDown(): Promise<void> {
    await this.statusDaemon[Symbol.asyncDispose]();
  }

  async statusRemoteUp(): Promise<void> {
    this.statusDaemon = await startGitDaemon(this.statusBase, { push: true, port: this.statusDaemon.port });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stopLoops();
    await this.statusDaemon[Symbol.asyncDispose]();
    await this.appDaemon[Symbol.asyncDispose]();
    await this.statusProxy[Symbol.asyncDispose]();
    await this.appProxy[Symbol.asyncDispose]();
    await this.fx[Symbol.asyncDispose]();
  }
}

function protocolJson(rollout: Record<string, unknown>, health?: Record<string, unknown>): string {
  return `${JSON.stringify({ git: { interval: 1 }, rollout, ...(health ? { deploy: { health } } : {}) }, null, 2)}\n`;
}
