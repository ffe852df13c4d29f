import { defineProtocolCommand } from "../lib/core/command.ts";
import { log } from "../lib/core/log.ts";
import { printText } from "../lib/core/output.ts";
import { readDeployKeyFile, renderUserData } from "../lib/host/cloud-init.ts";
import { parseSshHost } from "../lib/host/ssh-config.ts";
import { downloadBase } from "../lib/release/metadata.ts";

export default defineProtocolCommand({
  meta: { name: "cloud-init" },
  args: {
    repo: { type: "string", required: true, description: "The app's git URL, as the node clones it", valueHint: "url" },
    branch: {
      type: "string",
      description: "Branch to clone and follow (default: the remote's default branch)",
      valueHint: "branch",
    },
    dir: {
      type: "string",
      default: "/srv/app",
      description: "Where the app is cloned on the node (default: /srv/app)",
      valueHint: "path",
    },
    env: {
      type: "string",
      description: "The node's environment (config repo branch), passed to protocol start",
      valueHint: "env",
    },
    "config-repo": {
      type: "string",
      description: "The config repo's git URL, cloned to <dir>-config",
      valueHint: "url",
    },
    "deploy-key-file": {
      type: "string",
      description: "The app repo's private deploy key (read-only!), installed as /root/.ssh/protocol_app",
      valueHint: "path",
    },
    "config-deploy-key-file": {
      type: "string",
      description: "The config repo's own private deploy key, installed as /root/.ssh/protocol_config",
      valueHint: "path",
    },
    "protocol-version": {
      type: "string",
      description: "Install this protocol release (default: the latest)",
      valueHint: "x.y.z",
    },
  },
  async run({ args }) {
    const keyFile = args["deploy-key-file"];
    const deployKey = keyFile ? readDeployKeyFile(keyFile) : undefined;
    const configKeyFile = args["config-deploy-key-file"];
    const configDeployKey = configKeyFile ? readDeployKeyFile(configKeyFile) : undefined;
    const userData = renderUserData({
      repo: args.repo,
      branch: args.branch,
      dir: args.dir,
      env: args.env,
      configRepo: args["config-repo"],
      deployKey,
      configDeployKey,
      downloadUrl: downloadBase(),
      minisignPublicKey: process.env.PROTOCOL_MINISIGN_PUBKEY || undefined,
      version: args["protocol-version"],
    });
    if (parseSshHost(args.repo) && !deployKey)
      log.warn(
        "the app is cloned over ssh but no --deploy-key-file was given: the clone will fail unless the image has a key",
      );
    const configRepo = args["config-repo"];
    if (configRepo && parseSshHost(configRepo) && !configDeployKey)
      log.warn(
        "the config repo is cloned over ssh without --config-deploy-key-file: a deploy key belongs to one repo, so the app's key will not clone it on GitHub or GitLab",
      );
    if (deployKey || configDeployKey)
      log.warn(
        "the user-data holds the deploy keys: anything on the node that can read the metadata service can read them, so give them read-only access only",
      );
    printText(userData);
  },
});
