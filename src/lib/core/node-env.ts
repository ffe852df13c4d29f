/**
 * The environment protocol's work for one node runs with. `restart` starts every node of the
 * machine in one process, each with the variables its `start` recorded (DOCKER_HOST, proxies…):
 * instead of rewriting process.env per node, it runs each node inside `withNodeEnv`, and every
 * spawn (git, docker, the loop it starts) and every read of those variables takes them from here.
 * AsyncLocalStorage keeps one node's environment from leaking into another's, even interleaved.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export type Env = Record<string, string | undefined>;

const scoped = new AsyncLocalStorage<Env>();

/** process.env, with the current node's variables in place (set ones set, others unset). */
export function nodeEnv(): Env {
  const overlay = scoped.getStore();
  return overlay ? { ...process.env, ...overlay } : process.env;
}

/** Run `work` with `overlay` over process.env for everything it spawns and reads through nodeEnv(). */
export function withNodeEnv<T>(overlay: Env, work: () => Promise<T>): Promise<T> {
  return scoped.run(overlay, work);
}
