import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiextensionsV1Api, loadYaml, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';

/**
 * The CustomResourceDefinitions of StreamSpace (crds/*.yaml at the repository root, also shipped by the Helm
 * chart). The server installs or updates them at start when STREAMSPACE_INSTALL_CRDS is on, so a development
 * cluster needs no separate `kubectl apply`.
 */

/** crds/ above this file (source tree and compiled dist both live inside the repository or image). */
export function findCrdDir(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (;;) {
    const candidate = path.join(dir, 'crds');
    if (existsSync(path.join(candidate, 'session.yaml'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the crds/ directory above ${from}`);
    dir = parent;
  }
}

export function readCrdManifests(dir: string = findCrdDir()): V1CustomResourceDefinition[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    // loadYaml maps JSON names to the client's model (`enum` -> `_enum`, `x-kubernetes-validations` -> ...);
    // a plain YAML parse would have the client drop those fields silently when it serializes the body.
    .map((f) => loadYaml<V1CustomResourceDefinition>(readFileSync(path.join(dir, f), 'utf8')));
}

function statusCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

/** Creates or updates every CRD and waits until the API server serves them (condition Established). */
export async function installCrds(kubeConfig: KubeConfig, options: { dir?: string; timeoutMs?: number } = {}): Promise<string[]> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const crds = readCrdManifests(options.dir);
  for (const crd of crds) {
    const name = crd.metadata!.name!;
    for (let attempt = 0; ; attempt++) {
      try {
        const existing = await api.readCustomResourceDefinition({ name });
        await api.replaceCustomResourceDefinition({
          name,
          body: { ...crd, metadata: { ...crd.metadata, resourceVersion: existing.metadata!.resourceVersion } },
        });
        break;
      } catch (err) {
        const code = statusCode(err);
        if (code === 404) {
          try {
            await api.createCustomResourceDefinition({ body: crd });
            break;
          } catch (createErr) {
            if (statusCode(createErr) !== 409 || attempt > 5) throw createErr;
            continue;
          }
        }
        if (code === 409 && attempt < 5) continue; // another replica updated it meanwhile
        throw err;
      }
    }
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (const crd of crds) {
    const name = crd.metadata!.name!;
    for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
      const current = await api.readCustomResourceDefinition({ name });
      if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} did not become Established`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  return crds.map((c) => c.metadata!.name!);
}
