/**
 * Compile protocol into a single executable. `--single` (npm run build) builds the host target to
 * dist/protocol; the distribution issue extends this to every target with SHA256SUMS.
 * The binary must not pick up the .env or bunfig.toml of the app directory it runs in.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import pkg from "../package.json" with { type: "json" };

const root = join(import.meta.dir, "..");
const at = process.argv.indexOf("--outfile");
const outfile = at > 0 && process.argv[at + 1] ? process.argv[at + 1]! : join(root, "dist", "protocol");
mkdirSync(dirname(outfile), { recursive: true });

const result = await Bun.build({
  entrypoints: [join(root, "src", "cli.ts")],
  compile: { outfile, autoloadDotenv: false, autoloadBunfig: false },
  minify: true,
  define: { PROTOCOL_VERSION: JSON.stringify(process.env.PROTOCOL_VERSION ?? pkg.version) },
});
if (!result.success) {
  for (const message of result.logs) console.error(message);
  process.exit(1);
}
console.log(`built ${outfile} (${pkg.version})`);
