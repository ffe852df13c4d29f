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
      description: "Private deploy key to install as /root/.ssh/protocol_deploy (read-only key!)",
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
    const userData = renderUserData({
      repo: args.repo,
      branch: args.branch,
      dir: args.dir,
      env: args.env,
      configRepo: args["config-repo"],
      deployKey,
      downloadUrl: downloadBase(),
      version: args["protocol-version"],
    });
    const needsKey = [args.repo, args["config-repo"]].some((url) => url && parseSshHost(url));
    if (needsKey && !deployKey)
      log.warn(
        "the repo is cloned over ssh but no --deploy-key-file was given: the clone will fail unless the image has a key",
      );
    if (deployKey)
      log.warn(
        "the user-data holds the deploy key: anything on the node that can read the metadata service can read it, so give it read-only access only",
      );
    printText(userData);
  },
});
