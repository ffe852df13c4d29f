import { existsSync, statSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { type App, appWithDefaults, loadApp, remoteName, resolveAppDir } from "../app/app.ts";
import { CONFIG_REMOTE, configContext, hasConfigRepo } from "../config-repo/repo.ts";
import { errorMessage, MissingProgramError } from "../core/errors.ts";
import { expandHome } from "../core/paths.ts";
import { run, type SpawnResult } from "../core/spawn.ts";
import { credentialInUrl, redactUrl } from "../core/validate.ts";
import { composeFiles } from "../docker/docker.ts";
import { checkStatusRemote } from "../fleet/check.ts";
import { gitContext } from "../git/auth.ts";
import { isWorkTree, remoteDefaultBranch, remoteUrl } from "../git/git.ts";
import { type Check, composeCheck, diskCheck, dockerEngineCheck, gitVersionCheck } from "../host/doctor.ts";
import { checkRegistryAccess } from "../host/doctor-registry.ts";
import { keyNameFor, parseSshHost } from "../host/ssh-config.ts";
import { resolveSshHost } from "../host/ssh-key.ts";
import { checkLoops } from "./doctor-loops.ts";
import { checkServices } from "./doctor-services.ts";
import { checkCrontab } from "./doctor-supervisor.ts";
import { secretsInRemoteUrls } from "./remote-secrets.ts";

/** Run a probe; null when the program is not installed. */
async function probe(argv: string[]): Promise<SpawnResult | null> {
  try {
    return await run(argv, { idleTimeoutMs: 30_000 });
  } catch (error) {
    if (error instanceof MissingProgramError) return null;
    throw error;
  }
}

const okStdout = (result: SpawnResult | null) => (result?.ok ? result.stdout : null);

export async function checkGit(): Promise<Check> {
  return gitVersionCheck(okStdout(await probe(["git", "--version"])));
}

export async function checkDockerEngine(): Promise<Check> {
  return dockerEngineCheck(await probe(["docker", "version", "--format", "json"]));
}

export async function checkCompose(): Promise<Check> {
  const v2 = okStdout(await probe(["docker", "compose", "version"]));
  return composeCheck(v2, v2 === null ? okStdout(await probe(["docker-compose", "version"])) : null);
}

export async function checkDisk(name: string, path: string): Promise<Check> {
  try {
    const stats = await statfs(path);
    return diskCheck(name, path, { free: stats.bavail * stats.bsize, total: stats.blocks * stats.bsize });
  } catch (error) {
    return { name, ok: false, detail: `cannot read free space of ${path}: ${errorMessage(error)}` };
  }
}

export async function checkDockerRoot(): Promise<Check> {
  const name = "disk (docker root)";
  const result = await probe(["docker", "info", "--format", "{{.DockerRootDir}}"]);
  const root = result?.ok ? result.stdout.trim() : "";
  if (!root) return { name, ok: true, skipped: true, detail: "not checked: the docker engine did not answer" };
  // A remote engine (DOCKER_HOST, Docker Desktop's VM) keeps its root on another machine.
  if (!existsSync(root))
    return {
      name,
      ok: true,
      skipped: true,
      detail: `not checked: ${root} is not on this machine (remote engine or VM)`,
    };
  return checkDisk(name, root);
}

/** One round trip to the remote with the app's credentials (git.key, PROTOCOL_GIT_*), as slave mode does. */
export async function checkRemote(app: App): Promise<Check> {
  const name = "remote";
  const remote = remoteName(app);
  const ctx = gitContext(app);
  if (!(await isWorkTree(app.dir)))
    return {
      name,
      ok: false,
      detail: `${app.dir} is not a git working copy`,
      fix: "clone the app there: git clone <url> <dir>",
    };
  const url = await remoteUrl(ctx, remote);
  if (!url) {
    const fix = app.config.git?.remote
      ? `git -C ${app.dir} remote add ${remote} ${app.config.git.remote}`
      : `git -C ${app.dir} remote add ${remote} <url>`;
    return { name, ok: false, detail: `the working copy has no remote named ${remote}`, fix };
  }
  try {
    await remoteDefaultBranch(ctx, remote);
    return { name, ok: true, detail: `${remote} (${redactUrl(url)}) answers` };
  } catch (error) {
    const fix = app.config.git?.key
      ? `check the network, and that ${app.config.git.key} is a deploy key of the repository on the git host`
      : "check the network and the credentials: git.key (protocol key:generate) or PROTOCOL_GIT_USERNAME / PROTOCOL_GIT_PASSWORD";
    return { name, ok: false, detail: errorMessage(error), fix };
  }
}

/** A password or token in a remote URL is a warning: it works, but ps and .git/config show it. */
export async function checkRemoteSecrets(app: App): Promise<Check> {
  const name = "credentials";
  const [first, ...more] = await secretsInRemoteUrls(app);
  if (!first) return { name, ok: true, detail: "no password or token in the remote URLs" };
  const also = more.length > 0 ? `; ${more.map((s) => s.detail).join("; ")}` : "";
  return {
    name,
    ok: false,
    severity: "warning",
    detail: first.detail + also,
    fix: [first, ...more].map((s) => s.fix).join("; "),
  };
}

/** The config repo's remote answers with the credentials the config repo uses (its own key or token). */
export async function checkConfigRemote(app: App): Promise<Check> {
  const name = "remote (config)";
  if (!hasConfigRepo(app)) return { name, ok: true, skipped: true, detail: "no config repo" };
  const ctx = configContext(app);
  const url = await remoteUrl(ctx, CONFIG_REMOTE);
  if (!url) return { name, ok: true, skipped: true, detail: "the config repo has no remote (local only)" };
  try {
    await remoteDefaultBranch(ctx, CONFIG_REMOTE);
    return { name, ok: true, detail: `${redactUrl(url)} answers` };
  } catch (error) {
    return {
      name,
      ok: false,
      detail: errorMessage(error),
      fix: parseSshHost(url)
        ? `give the config repo its own deploy key: protocol key:generate ${keyNameFor(app.name)}-config --repo ${credentialInUrl(url) ? redactUrl(url) : url}`
        : "check the network and PROTOCOL_CONFIG_GIT_USERNAME / PROTOCOL_CONFIG_GIT_PASSWORD",
    };
  }
}

/** git.key exists and only its owner can read it (ssh refuses a key others can read). */
export function checkDeployKey(app: App): Check {
  const name = "deploy key";
  const key = app.config.git?.key;
  if (!key) return { name, ok: true, skipped: true, detail: "git.key not set (ssh agent or ~/.ssh defaults)" };
  const path = expandHome(key, app.dir);
  if (!existsSync(path))
    return {
      name,
      ok: false,
      detail: `${path} does not exist`,
      fix: "protocol key:generate, then add the public key to the repository as a deploy key",
    };
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    return {
      name,
      ok: false,
      detail: `${path} is readable by others (mode ${mode.toString(8)}); ssh refuses it`,
      fix: `chmod 600 ${path}`,
    };
  return { name, ok: true, detail: path };
}

/** The known_hosts files ssh reads by default. */
export function knownHostsFiles(home = homedir()): string[] {
  return [join(home, ".ssh", "known_hosts"), join(home, ".ssh", "known_hosts2"), "/etc/ssh/ssh_known_hosts"];
}

/** For an ssh remote: the git host's key is in known_hosts, so BatchMode ssh can connect. */
export async function checkKnownHosts(url: string | null, files = knownHostsFiles()): Promise<Check> {
  const name = "known_hosts";
  const named = url ? parseSshHost(url) : null;
  if (!named) return { name, ok: true, skipped: true, detail: "not needed: the remote is not ssh" };
  // A key's alias (protocol-shop) is looked up under the host it stands for.
  const host = await resolveSshHost(named);
  const entry = host.port && host.port !== 22 ? `[${host.host}]:${host.port}` : host.host;
  for (const file of files.filter((path) => existsSync(path))) {
    const result = await probe(["ssh-keygen", "-F", entry, "-f", file]);
    if (result === null)
      return {
        name,
        ok: false,
        detail: "ssh-keygen is not installed",
        fix: "apt-get install openssh-client (Debian/Ubuntu), apk add openssh-client (Alpine)",
      };
    if (result.ok && result.stdout.trim()) return { name, ok: true, detail: `${entry} is in ${file}` };
  }
  const port = host.port ? `-p ${host.port} ` : "";
  return {
    name,
    ok: false,
    detail: `no known_hosts entry for ${entry}`,
    fix: `ssh-keyscan ${port}${host.host} >> ~/.ssh/known_hosts (then compare the fingerprint with the git host's published one)`,
  };
}

/** protocol.json passes the schema; with an invalid one, the app checks run on the defaults. */
function loadForDoctor(dir: string): { app: App; check: Check } {
  try {
    const app = loadApp(dir);
    return {
      app,
      check: { name: "protocol.json", ok: true, detail: app.configPath ? "valid" : "none (all defaults)" },
    };
  } catch (error) {
    const app = appWithDefaults(dir);
    return {
      app,
      check: {
        name: "protocol.json",
        ok: false,
        detail: errorMessage(error),
        fix: "fix that key (see the protocol.json section of the README)",
      },
    };
  }
}

async function appChecks(dirArg?: string): Promise<Check[]> {
  let dir: string;
  try {
    dir = resolveAppDir(dirArg);
  } catch (error) {
    return [
      {
        name: "app",
        ok: false,
        detail: errorMessage(error),
        fix: "run doctor inside the app's working copy, or pass --dir",
      },
    ];
  }
  const { app, check } = loadForDoctor(dir);
  const remoteChecks = async () => {
    // The remote first: with StrictHostKeyChecking accept-new, that connection adds the host key.
    const remote = await checkRemote(app);
    return [
      remote,
      await checkKnownHosts(await remoteUrl(gitContext(app), remoteName(app))),
      await checkConfigRemote(app),
      await checkStatusRemote(app),
    ];
  };
  const [remote, crontab, disk, registry, services] = await Promise.all([
    remoteChecks(),
    checkCrontab(app),
    checkDisk("disk (app)", app.dir),
    checkRegistryAccess(app),
    composeFiles(app).length > 0 ? checkServices(app) : null,
  ]);
  return [
    check,
    ...remote,
    await checkRemoteSecrets(app),
    checkDeployKey(app),
    registry,
    ...(services ? [services] : []),
    disk,
    crontab,
  ];
}

/** Every check, machine-wide ones first; independent ones run at the same time. */
export async function runDoctor(dirArg?: string): Promise<Check[]> {
  const [machine, app, dockerRoot] = await Promise.all([
    Promise.all([checkGit(), checkDockerEngine(), checkCompose()]),
    appChecks(dirArg),
    checkDockerRoot(),
  ]);
  return [...machine, ...app, dockerRoot, ...checkLoops()];
}
