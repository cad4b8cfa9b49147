import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ApiextensionsV1Api,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { kubeMessage, kubeStatusCode } from './kube-errors';

/**
 * The one installer of StreamSpace's CustomResourceDefinitions (crds/*.yaml at the repository root, also shipped by
 * the Helm chart). Used by the server at start (STREAMSPACE_INSTALL_CRDS) and by the local control plane, so both
 * install the same objects the same way: server-side apply (idempotent across restarts and replicas), then a wait
 * until the API server serves each kind (condition Established).
 */

export const CRD_FIELD_MANAGER = 'streamspace';

/** crds/ above `from` (the source tree and the compiled dist both live inside the repository or image). */
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

/** Every CustomResourceDefinition in `dir`'s *.yaml files (sorted by file name); anything else is an error. */
export function readCrdManifests(dir: string = findCrdDir()): V1CustomResourceDefinition[] {
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort()) {
    // loadAllYaml maps JSON names onto the client's models (`enum` -> `_enum`, `default` -> `_default`,
    // `x-kubernetes-validations` -> `xKubernetesValidations`). With a plain YAML parse, the client's serializer
    // would silently drop exactly those fields, and the CRD would validate nothing.
    let objects: KubernetesObject[];
    try {
      objects = (loadAllYaml(readFileSync(path.join(dir, file), 'utf8')) as KubernetesObject[]).filter(Boolean);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
    }
    for (const obj of objects) {
      if (obj.kind !== 'CustomResourceDefinition') throw new Error(`${file}: expected only CustomResourceDefinitions in ${dir}, found ${obj.kind}`);
      crds.push(obj as V1CustomResourceDefinition);
    }
  }
  return crds;
}

/** Applies every CRD of `dir` and resolves with their names once all are Established (or rejects at timeoutMs). */
export async function installCrds(kubeConfig: KubeConfig, options: { dir?: string; timeoutMs?: number } = {}): Promise<string[]> {
  const dir = options.dir ?? findCrdDir();
  const crds = readCrdManifests(dir);
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  for (const crd of crds) {
    try {
      await objects.patch(crd, undefined, undefined, CRD_FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (err) {
      const status = kubeStatusCode(err);
      throw new Error(`applying CRD ${crd.metadata?.name} from ${dir} failed: ${status ? `${status}: ` : ''}${kubeMessage(err)}`, { cause: err });
    }
  }
  const names = crds.map((c) => c.metadata!.name!);
  await waitUntilEstablished(kubeConfig, names, options.timeoutMs ?? 30_000);
  return names;
}

async function waitUntilEstablished(kubeConfig: KubeConfig, names: string[], timeoutMs: number): Promise<void> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
      const crd = await api.readCustomResourceDefinition({ name });
      const cond = (type: string) => crd.status?.conditions?.find((c) => c.type === type);
      const accepted = cond('NamesAccepted');
      if (accepted?.status === 'False') throw new Error(`CRD ${name} names not accepted: ${accepted.message}`);
      if (cond('Established')?.status === 'True') break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} did not become Established within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
