import type { CommandDef } from "citty";

type Loader = () => Promise<CommandDef<any>>;
const load = (module: Promise<{ default: CommandDef<any> }>) => module.then((m) => m.default);

/** The registry: command name → lazy import, so start-up loads only the command that runs. */
export const commands: Record<string, Loader> = {
  init: () => load(import("./init.ts")),
  start: () => load(import("./start.ts")),
  stop: () => load(import("./stop.ts")),
  restart: () => load(import("./restart.ts")),
  status: () => load(import("./status.ts")),
  "deploy:log": () => load(import("./deploy/log.ts")),
  "git:pull": () => load(import("./git/pull.ts")),
  "git:slave": () => load(import("./git/slave.ts")),
  "git:slave:stop": () => load(import("./git/slave-stop.ts")),
  "cron:add": () => load(import("./cron/add.ts")),
  "cron:remove": () => load(import("./cron/remove.ts")),
  list: () => load(import("./list.ts")),
  help: () => load(import("./help.ts")),
};
