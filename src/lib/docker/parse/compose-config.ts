import { ConfigError } from "../../core/errors.ts";

interface ComposeService {
  image?: unknown;
  build?: unknown;
}

/** The services of `compose config` output (YAML; compose v1 and v2 both print it). */
export function parseComposeServices(yaml: string): Record<string, ComposeService> {
  let document: unknown;
  try {
    document = Bun.YAML.parse(yaml);
  } catch (error) {
    throw new ConfigError(`compose config printed something that is not YAML: ${(error as Error).message}`);
  }
  const services = (document as { services?: unknown } | null)?.services;
  return services && typeof services === "object" ? (services as Record<string, ComposeService>) : {};
}

/**
 * The image `compose build` made for a service: its own `image:` when it names one, else compose's
 * default name, `<project>-<service>` (v2) or `<project>_<service>` (v1). The service is the one
 * given, else the first with a build section.
 */
export function builtServiceImage(yaml: string, project: string, version: 1 | 2, service?: string): string {
  const services = parseComposeServices(yaml);
  const name = service ?? Object.keys(services).find((key) => services[key]?.build !== undefined);
  if (!name) {
    throw new ConfigError(
      "no service in the compose file has a build section, so there is nothing to tag",
      "set docker.local to the Dockerfile's directory, or add build: to a service",
    );
  }
  const definition = services[name];
  if (!definition)
    throw new ConfigError(
      `the compose file has no service ${JSON.stringify(name)}`,
      "check --service / docker.service",
    );
  if (definition.build === undefined) {
    throw new ConfigError(
      `service ${name} has no build section, so compose built nothing for it`,
      "name the service that is built with --service or docker.service",
    );
  }
  if (typeof definition.image === "string" && definition.image) return definition.image;
  return `${project}${version === 2 ? "-" : "_"}${name}`;
}
