import type { CommandDef } from "citty";

// biome-ignore lint/suspicious/noExplicitAny: each command has its own args type; the registry holds them all.
export type AnyCommand = CommandDef<any>;

/** One command: what `protocol --help` and `list` say about it, and its module, loaded only when it runs. */
export interface CommandEntry {
  description: string;
  load: () => Promise<{ default: AnyCommand }>;
}

/**
 * The registry, and the one place each command's description is written: `protocol --help` and
 * `list` read it without loading any command module, and the dispatcher puts it into the loaded
 * command's meta for its own --help.
 */
export const commands: Record<string, CommandEntry> = {
  init: {
    description: "Write protocol.json from the repo's state (remote, branch, compose file)",
    load: () => import("./init.ts"),
  },
  start: {
    description: "Bring the node up: sync now, deploy, start slave mode in the background, add the @reboot line",
    load: () => import("./start.ts"),
  },
  stop: {
    description: "Stop slave mode (git and config) for the app and remove its @reboot line",
    load: () => import("./stop.ts"),
  },
  restart: {
    description: "Start the given app dirs (or every node registered here) as start did; for @reboot cron",
    load: () => import("./restart.ts"),
  },
  status: {
    description: "Show the node at a glance: local vs remote commit, slave mode, last sync",
    load: () => import("./status.ts"),
  },
  logs: {
    description: "Show slave mode's log (deploys, refusals, failures), or follow it with -f",
    load: () => import("./logs.ts"),
  },
  sync: {
    description: "Make the running slave mode poll now instead of waiting out the interval (SIGHUP)",
    load: () => import("./sync.ts"),
  },
  "deploy:log": { description: "Show the node's deploy history (newest last)", load: () => import("./deploy/log.ts") },
  "deploy:rollback": {
    description: "Put the node back on the previous good deploy (commit and image digests) and hold it there",
    load: () => import("./deploy/rollback.ts"),
  },
  "git:pull": {
    description: "Sync once now: fetch and fast-forward the working copy (same safety rules as slave mode)",
    load: () => import("./git/pull.ts"),
  },
  "git:slave": {
    description: "Run slave mode: keep the working copy at the remote tip (in the background)",
    load: () => import("./git/slave.ts"),
  },
  "git:slave:stop": {
    description: "Stop slave mode for the app (waits for the current step to finish)",
    load: () => import("./git/slave-stop.ts"),
  },
  "config:init": {
    description: "Create the config repo (default ../<app>-config), or clone it with --remote",
    load: () => import("./config/init.ts"),
  },
  "config:cp": {
    description: "Copy files or directories from the app into the config repo, at the same path",
    load: () => import("./config/cp.ts"),
  },
  "config:mv": {
    description: "Move files or directories from the app into the config repo and link them back",
    load: () => import("./config/mv.ts"),
  },
  "config:link": {
    description: "Link the config repo's files into the app (plan first: any conflict changes nothing)",
    load: () => import("./config/link.ts"),
  },
  "config:unlink": {
    description: "Remove the links that point into the config repo (real files and other links stay)",
    load: () => import("./config/unlink.ts"),
  },
  "config:refresh": {
    description: "Rebuild the links (unlink + link), dropping links whose source was deleted",
    load: () => import("./config/refresh.ts"),
  },
  "config:new": {
    description: "Create an environment (a branch of the config repo) from the current one, or --empty",
    load: () => import("./config/new.ts"),
  },
  "config:switch": {
    description: "Switch the config repo to an environment and relink (refuses unsaved changes)",
    load: () => import("./config/switch.ts"),
  },
  "config:save": {
    description: "Commit every change in the config repo and push the environment's branch",
    load: () => import("./config/save.ts"),
  },
  "config:env": {
    description: "Set this machine's environment (used by start and config:switch); no argument prints it",
    load: () => import("./config/env.ts"),
  },
  "config:slave": {
    description: "Keep the config repo at its remote's tip, relinking and redeploying on change (in the background)",
    load: () => import("./config/slave.ts"),
  },
  "config:slave:stop": {
    description: "Stop config slave mode for the app (waits for the current step to finish)",
    load: () => import("./config/slave-stop.ts"),
  },
  "config:status": {
    description: "Show the config repo: env, links (missing, broken), files edited on this box",
    load: () => import("./config/status.ts"),
  },
  "cron:add": {
    description: "Add the app's @reboot protocol restart line to the crontab (marked block; idempotent)",
    load: () => import("./cron/add.ts"),
  },
  "cron:remove": {
    description: "Remove the app's @reboot line from the crontab (other lines are kept)",
    load: () => import("./cron/remove.ts"),
  },
  "key:generate": {
    description: "Make an ed25519 deploy key, point ssh at it for the git host, print the public key",
    load: () => import("./key/generate.ts"),
  },
  "self:update": {
    description: "Replace this binary with a newer verified release (the old one is kept as protocol.bak)",
    load: () => import("./self/update.ts"),
  },
  "self:global": {
    description: "Put this binary on PATH: /usr/local/bin as root, ~/.local/bin otherwise (idempotent)",
    load: () => import("./self/global.ts"),
  },
  "cloud-init": {
    description: "Print #cloud-config user-data that installs protocol on a fresh VPS, clones the app and starts it",
    load: () => import("./cloud-init.ts"),
  },
  "docker:build": {
    description:
      "Build the image from docker.local (a Dockerfile dir) or the compose build contexts, tagged docker.image",
    load: () => import("./docker/build.ts"),
  },
  "docker:push": {
    description: "Push docker.image to its registry (compose push when no image is configured)",
    load: () => import("./docker/push.ts"),
  },
  "docker:pull": {
    description: "Pull docker.image from its registry (compose pull when no image is configured)",
    load: () => import("./docker/pull.ts"),
  },
  "docker:compose": {
    description: "Start the app's containers: docker compose up -d",
    load: () => import("./docker/compose.ts"),
  },
  "docker:compose:down": {
    description: "Stop and remove the app's containers: docker compose down",
    load: () => import("./docker/compose-down.ts"),
  },
  "docker:compose:rebuild": {
    description: "Pull, build and recreate the app's containers: compose pull, then up -d --build --force-recreate",
    load: () => import("./docker/compose-rebuild.ts"),
  },
  "docker:logs": {
    description: "Follow the containers' logs (docker compose logs --follow); Ctrl-C stops",
    load: () => import("./docker/logs.ts"),
  },
  "nginx:logs": {
    description: "Follow nginx's access and error logs inside its container (tail -F)",
    load: () => import("./nginx/logs.ts"),
  },
  exec: {
    description: "Run a command in the app's container (a shell by default); exits with the command's exit code",
    load: () => import("./exec.ts"),
  },
  doctor: {
    description:
      "Check git, docker, compose v2, remote access, deploy key, disk and crontab; one line each, with a fix",
    load: () => import("./doctor.ts"),
  },
  list: { description: "List the commands", load: () => import("./list.ts") },
  help: { description: "Show help for a command (or the list of commands)", load: () => import("./help.ts") },
};
