/**
 * Compile protocol into single executables.
 *   bun scripts/build.ts --all                every target (npm run build:all): dist/protocol-<os>-<arch>[-variant],
 *                                             each also as .xz and .gz, plus install.sh, SHA256SUMS and VERSION
 *   bun scripts/build.ts [--single]           the host target to dist/protocol (npm run build; bench/run.ts)
 *   bun scripts/build.ts --outfile <path> [--target linux-arm64]   one target to that path (tests)
 * PROTOCOL_VERSION overrides package.json's version. The binaries must not pick up the .env or
 * bunfig.toml of the app directory they run in, so both autoloads are off.
 * With --all, PROTOCOL_MINISIGN_KEY names an unencrypted minisign secret key file (`minisign -G -W`):
 * SHA256SUMS is signed into SHA256SUMS.minisig with the trusted comment "protocol <version> SHA256SUMS".
 *   bun scripts/build.ts --sign <dir>         sign <dir>/SHA256SUMS only (a release built elsewhere)
 */

import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { run } from "../src/lib/core/spawn.ts";
import { sha256File } from "../src/lib/release/checksum.ts";
import { TARGETS, withReleaseUrl } from "../src/lib/release/metadata.ts";
import { parseSecretKey, publicKeyLine, signData } from "../src/lib/release/minisign.ts";
import { RELEASE_PUBLIC_KEY, withReleaseKey } from "../src/lib/release/release-key.ts";
import { SIGNATURE_FILE, trustedComment } from "../src/lib/release/signed-sums.ts";
import { renderSha256Sums } from "../src/lib/schema/release.ts";

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");
const version = process.env.PROTOCOL_VERSION ?? pkg.version;

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

/** citty's consola imports resolve to src/lib/core/citty-consola.ts (its header says why). */
const cittyWithoutTerminalProbe: Bun.BunPlugin = {
  name: "citty-without-terminal-probe",
  setup(build) {
    build.onResolve({ filter: /^consola(\/utils)?$/ }, (args) =>
      args.importer.includes(`${join("node_modules", "citty")}`)
        ? { path: join(root, "src", "lib", "core", "citty-consola.ts") }
        : undefined,
    );
  },
};

async function compile(outfile: string, target?: Bun.Build.CompileTarget): Promise<void> {
  mkdirSync(dirname(outfile), { recursive: true });
  const result = await Bun.build({
    entrypoints: [join(root, "src", "cli.ts")],
    compile: { outfile, ...(target ? { target } : {}), autoloadDotenv: false, autoloadBunfig: false },
    minify: true,
    // Precompiled bytecode, split into chunks that load when first imported: --version and --help
    // load only cli.ts's own small chunk, a command only the modules it uses (bench/startup.ts).
    bytecode: true,
    format: "esm",
    splitting: true,
    define: { PROTOCOL_VERSION: JSON.stringify(version) },
    plugins: [cittyWithoutTerminalProbe],
  });
  if (!result.success) {
    for (const message of result.logs) console.error(message);
    process.exit(1);
  }
  console.log(`built ${outfile} (${version}${target ? `, ${target}` : ""})`);
}

/** xz -9 (~100 s for linux-x64) and gzip -9, in parallel up to the core count; -n/-k keep it reproducible and the raw file. */
async function compressAll(files: string[]): Promise<void> {
  const jobs = files.flatMap((file) => [
    ["xz", "-9", "--keep", "--force", "--", file],
    ["gzip", "-9", "-n", "--keep", "--force", "--", file],
  ]);
  const worker = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) {
      const result = await run(job);
      if (!result.ok) throw new Error(`${job.join(" ")} failed: ${result.stderr}`);
      console.log(`${job[0]} ${basename(job.at(-1)!)} (${(result.durationMs / 1000).toFixed(0)} s)`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, worker));
}

const mb = (path: string) => `${(statSync(path).size / 1e6).toFixed(1)} MB`;

async function buildAll(): Promise<void> {
  const artifacts: string[] = [];
  for (const target of TARGETS) {
    const outfile = join(dist, target.artifact);
    await compile(outfile, target.bun);
    artifacts.push(outfile);
  }
  await compressAll(artifacts);
  const installer = withReleaseKey(withReleaseUrl(readFileSync(join(root, "install.sh"), "utf8")));
  writeFileSync(join(dist, "install.sh"), installer, { mode: 0o755 });
  const files = [...artifacts.flatMap((a) => [a, `${a}.xz`, `${a}.gz`]), join(dist, "install.sh")];
  const sums = new Map<string, string>();
  for (const file of files) sums.set(basename(file), await sha256File(file));
  writeFileSync(join(dist, "SHA256SUMS"), renderSha256Sums(sums));
  writeFileSync(join(dist, "VERSION"), `${version}\n`);
  await sign(dist);
  console.log("\nartifact                        raw        xz         gz");
  for (const a of artifacts)
    console.log(`${basename(a).padEnd(32)}${mb(a).padEnd(11)}${mb(`${a}.xz`).padEnd(11)}${mb(`${a}.gz`)}`);
  console.log(`\nwrote ${join(dist, "SHA256SUMS")} (${sums.size} files) and VERSION (${version})`);
}

/** Sign <dir>/SHA256SUMS with PROTOCOL_MINISIGN_KEY, and say plainly when the release is not signed. */
async function sign(dir: string): Promise<void> {
  const keyFile = process.env.PROTOCOL_MINISIGN_KEY;
  const sumsFile = readFileSync(join(dir, "SHA256SUMS"), "utf8");
  const signature = join(dir, SIGNATURE_FILE);
  rmSync(signature, { force: true });
  if (!keyFile) {
    console.log(`\nNOT SIGNED: PROTOCOL_MINISIGN_KEY is not set, so there is no ${SIGNATURE_FILE};`);
    console.log("install.sh and self:update refuse this release. Set it to the release's secret key file to sign.");
    return;
  }
  const secret = parseSecretKey(readFileSync(keyFile, "utf8"));
  writeFileSync(signature, await signData(new TextEncoder().encode(sumsFile), secret, trustedComment(version)));
  const key = publicKeyLine(secret);
  console.log(`\nsigned SHA256SUMS with ${keyFile} (public key ${key}) into ${signature}`);
  if (key !== RELEASE_PUBLIC_KEY)
    console.log(
      `WARNING: that is not the release key in package.json (config.minisignPublicKey ${RELEASE_PUBLIC_KEY || "is empty"}): installs verify it only with PROTOCOL_MINISIGN_PUBKEY=${key}`,
    );
}

const outfile = flag("--outfile");
const targetName = flag("--target");
const target = targetName
  ? TARGETS.find((t) => t.artifact === `protocol-${targetName}` || t.bun === targetName)
  : undefined;
if (targetName && !target) {
  console.error(
    `unknown --target ${targetName}; one of: ${TARGETS.map((t) => t.artifact.replace("protocol-", "")).join(", ")}`,
  );
  process.exit(2);
}
const signDir = flag("--sign");
if (signDir) await sign(signDir);
else if (outfile) await compile(outfile, target?.bun);
else if (process.argv.includes("--all")) await buildAll();
else await compile(join(dist, "protocol"), target?.bun);
