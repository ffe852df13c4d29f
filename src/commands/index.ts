import type { CommandEntry } from "./_groups.ts";

/**
 * The registry, and the one place each command's description and example are written: `protocol
 * --help` and `list` read it without loading any command module, and the dispatcher puts the
 * description into the loaded command's meta and the example under its --help.
 */
export const commands: Record<string, CommandEntry> = {
  init: {
    group: "node",
    description: "Write protocol.json from the repo's state (remote, branch, compose file)",
    example: "protocol init --yes",
    load: () => import("./init.ts"),
  },
  start: {
    group: "node",
    description: "Bring the node up: sync now, deploy, start slave mode in the background, add the @reboot line",
    example: "protocol start production --dir /srv/shop",
    load: () => import("./start.ts"),
  },
  stop: {
    group: "node",
    description: "Stop slave mode (git and config) for the app and remove its @reboot line",
    example: "protocol stop --down",
    load: () => import("./stop.ts"),
  },
  restart: {
    group: "node",
    description: "Start the given app dirs (or every node registered here) as start did; for @reboot cron",
    example: "protocol restart /srv/shop /srv/blog",
    load: () => import("./restart.ts"),
  },
  status: {
    group: "status",
    description: "Show the node at a glance: local vs remote commit, slave mode, last sync",
    example: "protocol status --json",
    load: () => import("./status.ts"),
  },
  logs: {
    group: "status",
    description: "Show slave mode's log (deploys, refusals, failures), or follow it with -f",
    example: "protocol logs -f -n 20",
    load: () => import("./logs.ts"),
  },
  sync: {
    group: "status",
    description: "Make the running slave mode poll now instead of waiting out the interval (SIGHUP)",
    example: "protocol sync --dir /srv/shop",
    load: () => import("./sync.ts"),
  },
  "deploy:log": {
    group: "deploys",
    description: "Show the node's deploy history (newest last)",
    example: "protocol deploy:log --limit 5",
    load: () => import("./deploy/log.ts"),
  },
  "deploy:hooks": {
    group: "deploys",
    description: "Show the deploy hooks the next deploy runs: each point's steps, where, timeout, environment",
    example: "protocol deploy:hooks --dry-run --json",
    load: () => import("./deploy/hooks.ts"),
  },
  "deploy:rollback": {
    group: "deploys",
    description: "Put the node back on the previous good deploy (commit and image digests) and hold it there",
    example: "protocol deploy:rollback --to 1a2b3c4",
    load: () => import("./deploy/rollback.ts"),
  },
  fleet: {
    group: "fleet",
    description: "Show the fleet record: every node's commit, result, wave and age; stale nodes marked",
    example: "protocol fleet --env production --json",
    load: () => import("./fleet.ts"),
  },
  "rollout:freeze": {
    group: "fleet",
    description: "Hold every new commit on every node of an environment until rollout:unfreeze",
    example: 'protocol rollout:freeze --env production --reason "incident 42"',
    load: () => import("./rollout/freeze.ts"),
  },
  "rollout:unfreeze": {
    group: "fleet",
    description: "Lift an environment's freeze: its nodes deploy the remote's commit again",
    example: "protocol rollout:unfreeze --env production",
    load: () => import("./rollout/unfreeze.ts"),
  },
  "rollout:release": {
    group: "fleet",
    description: "Let the nodes deploy a commit a canary failed (a hold released by hand)",
    example: "protocol rollout:release 1a2b3c4 --env production",
    load: () => import("./rollout/release.ts"),
  },
  "git:pull": {
    group: "git",
    description: "Sync once now: fetch and fast-forward the working copy (same safety rules as slave mode)",
    example: "protocol git:pull --on-dirty=stash --wait 0",
    load: () => import("./git/pull.ts"),
  },
  "git:slave": {
    group: "git",
    description: "Run slave mode: keep the working copy at the remote tip (in the background)",
    example: "protocol git:slave --foreground --interval 30",
    load: () => import("./git/slave.ts"),
  },
  "git:slave:stop": {
    group: "git",
    description: "Stop slave mode for the app (waits for the current step to finish)",
    example: "protocol git:slave:stop --dir /srv/shop",
    load: () => import("./git/slave-stop.ts"),
  },
  "config:init": {
    group: "config",
    description: "Create the config repo (default ../<app>-config), or clone it with --remote",
    example: "protocol config:init --remote git@github.com:acme/shop-config.git",
    load: () => import("./config/init.ts"),
  },
  "config:cp": {
    group: "config",
    description: "Copy files or directories from the app into the config repo, at the same path",
    example: "protocol config:cp .env config/parameters.yml",
    load: () => import("./config/cp.ts"),
  },
  "config:mv": {
    group: "config",
    description: "Move files or directories from the app into the config repo and link them back",
    example: "protocol config:mv .env",
    load: () => import("./config/mv.ts"),
  },
  "config:link": {
    group: "config",
    description: "Link the config repo's files into the app (plan first: any conflict changes nothing)",
    example: "protocol config:link --dry-run",
    load: () => import("./config/link.ts"),
  },
  "config:unlink": {
    group: "config",
    description: "Remove the links that point into the config repo (real files and other links stay)",
    example: "protocol config:unlink --json",
    load: () => import("./config/unlink.ts"),
  },
  "config:refresh": {
    group: "config",
    description: "Rebuild the links (unlink + link), dropping links whose source was deleted",
    example: "protocol config:refresh",
    load: () => import("./config/refresh.ts"),
  },
  "config:new": {
    group: "config",
    description: "Create an environment (a branch of the config repo) from the current one, or --empty",
    example: "protocol config:new staging",
    load: () => import("./config/new.ts"),
  },
  "config:switch": {
    group: "config",
    description: "Switch the config repo to an environment and relink (refuses unsaved changes)",
    example: "protocol config:switch staging",
    load: () => import("./config/switch.ts"),
  },
  "config:save": {
    group: "config",
    description: "Commit every change in the config repo and push the environment's branch",
    example: `protocol config:save -m "rotate the API key"`,
    load: () => import("./config/save.ts"),
  },
  "config:env": {
    group: "config",
    description: "Set this machine's environment (used by start and config:switch); no argument prints it",
    example: "protocol config:env production",
    load: () => import("./config/env.ts"),
  },
  "config:slave": {
    group: "config",
    description: "Keep the config repo at its remote's tip, relinking and redeploying on change (in the background)",
    example: "protocol config:slave --interval 30",
    load: () => import("./config/slave.ts"),
  },
  "config:slave:stop": {
    group: "config",
    description: "Stop config slave mode for the app (waits for the current step to finish)",
    example: "protocol config:slave:stop --dir /srv/shop",
    load: () => import("./config/slave-stop.ts"),
  },
  "config:status": {
    group: "config",
    description: "Show the config repo: env, links (missing, broken), files edited on this box",
    example: "protocol config:status --json",
    load: () => import("./config/status.ts"),
  },
  "cron:add": {
    group: "host",
    description: "Add the app's @reboot protocol restart line to the crontab (marked block; idempotent)",
    example: "protocol cron:add --dir /srv/shop",
    load: () => import("./cron/add.ts"),
  },
  "cron:remove": {
    group: "host",
    description: "Remove the app's @reboot line from the crontab (other lines are kept)",
    example: "protocol cron:remove --dir /srv/shop",
    load: () => import("./cron/remove.ts"),
  },
  "key:generate": {
    group: "host",
    description: "Make an ed25519 deploy key, point ssh at it for the git host, print the public key",
    example: "protocol key:generate shop --host git@github.com:acme/shop.git --scan",
    load: () => import("./key/generate.ts"),
  },
  "self:update": {
    group: "self",
    description: "Replace this binary with a newer verified release (the old one is kept as protocol.bak)",
    example: "protocol self:update --check",
    load: () => import("./self/update.ts"),
  },
  "self:global": {
    group: "self",
    description: "Put this binary on PATH: /usr/local/bin as root, ~/.local/bin otherwise (idempotent)",
    example: "protocol self:global --link",
    load: () => import("./self/global.ts"),
  },
  "cloud-init": {
    group: "host",
    description: "Print #cloud-config user-data that installs protocol on a fresh VPS, clones the app and starts it",
    example: "protocol cloud-init --repo git@github.com:acme/shop.git --env production",
    load: () => import("./cloud-init.ts"),
  },
  "docker:build": {
    group: "docker",
    description:
      "Build the image from docker.local (a Dockerfile dir) or the compose build contexts, tagged docker.image",
    example: "protocol docker:build --service web",
    load: () => import("./docker/build.ts"),
  },
  "docker:push": {
    group: "docker",
    description: "Push docker.image to its registry (compose push when no image is configured)",
    example: "protocol docker:push",
    load: () => import("./docker/push.ts"),
  },
  "docker:pull": {
    group: "docker",
    description: "Pull docker.image from its registry (compose pull when no image is configured)",
    example: "protocol docker:pull --dir /srv/shop",
    load: () => import("./docker/pull.ts"),
  },
  "docker:compose": {
    group: "docker",
    description: "Start the app's containers: docker compose up -d",
    example: "protocol docker:compose",
    load: () => import("./docker/compose.ts"),
  },
  "docker:compose:down": {
    group: "docker",
    description: "Stop and remove the app's containers: docker compose down",
    example: "protocol docker:compose:down",
    load: () => import("./docker/compose-down.ts"),
  },
  "docker:compose:rebuild": {
    group: "docker",
    description: "Pull, build and recreate the app's containers: compose pull, then up -d --build --force-recreate",
    example: "protocol docker:compose:rebuild",
    load: () => import("./docker/compose-rebuild.ts"),
  },
  "docker:logs": {
    group: "docker",
    description: "Follow the containers' logs (docker compose logs --follow); Ctrl-C stops",
    example: "protocol docker:logs --service web --tail 100",
    load: () => import("./docker/logs.ts"),
  },
  "nginx:logs": {
    group: "docker",
    description: "Follow nginx's access and error logs inside its container (tail -F)",
    example: "protocol nginx:logs --tail 50",
    load: () => import("./nginx/logs.ts"),
  },
  exec: {
    group: "docker",
    description: "Run a command in the app's container (a shell by default); exits with the command's exit code",
    example: "protocol exec -- php artisan migrate",
    load: () => import("./exec.ts"),
  },
  doctor: {
    group: "host",
    description:
      "Check git, docker, compose v2, remote access, deploy key, disk and crontab; one line each, with a fix",
    example: "protocol doctor --json",
    load: () => import("./doctor.ts"),
  },
  list: {
    group: "self",
    description: "List the commands",
    example: "protocol list --json",
    load: () => import("./list.ts"),
  },
  help: {
    group: "self",
    description: "Show help for a command (or the list of commands)",
    example: "protocol help start",
    load: () => import("./help.ts"),
  },
};
