import { chmodSync, lstatSync } from "node:fs";
import { basename, join } from "node:path";

/** Files the config repo holds as secrets: .env, .env.production, site.key, tls.pem… */
export function isSecretPath(path: string): boolean {
  const name = basename(path);
  return name.startsWith(".env") || name.endsWith(".key") || name.endsWith(".pem");
}

/** chmod 0600 the secret files among `paths` (relative to `dir`); returns those changed. */
export function protectSecrets(dir: string, paths: readonly string[]): string[] {
  const changed: string[] = [];
  for (const path of paths.filter(isSecretPath)) {
    const full = join(dir, path);
    const stat = lstatSync(full, { throwIfNoEntry: false });
    if (!stat?.isFile() || (stat.mode & 0o777) === 0o600) continue;
    chmodSync(full, 0o600);
    changed.push(path);
  }
  return changed;
}
