import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { createInformer, type Informer } from './informer';
import { isNotFound } from './kube-errors';
import { kubeRequest } from './kube-http';

/**
 * The StreamSpace API seam: the only place that reads and writes custom resources (REST requests with the
 * KubeConfig's credentials, kube-http.ts; client-node's generated CustomObjectsApi cost a connect, which writes three
 * objects, more CPU and garbage than the rest of the connect, decision 0029).
 * Modules get typed clients for their own kinds (`api.sessions`, `api.templates`, `api.connections`,
 * `api.repositories`) and never build `{group, version, namespace, plural}` themselves.
 */

export const STREAMSPACE_GROUP = 'stream.streamspace.io';
export const STREAMSPACE_VERSION = 'v1alpha1';
export const STREAMSPACE_API_VERSION = `${STREAMSPACE_GROUP}/${STREAMSPACE_VERSION}` as const;

/** What every custom object has; each module declares its own kind's shape and passes it as the type argument. */
export interface CustomObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; [key: string]: unknown };
}

/** One RFC 6902 operation (a JSON patch is a list of them). */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
}

export interface CustomResourceRef {
  group: string;
  version: string;
  plural: string;
}

const MERGE_PATCH = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';

/**
 * One namespaced custom resource. `patch` and `patchStatus` send a JSON merge patch for an object body and a JSON
 * patch for a list of operations. Failures are KubeHttpError: read them with kube-errors.ts.
 */
export class CustomResourceClient<T extends object = CustomObject> {
  /** The collection's REST path (for informers and raw requests). */
  readonly path: string;

  constructor(
    private readonly kubeConfig: KubeConfig,
    readonly resource: CustomResourceRef,
    readonly namespace: string,
  ) {
    const { group, version, plural } = resource;
    this.path = `/apis/${group}/${version}/namespaces/${namespace}/${plural}`;
  }

  private item(name: string, sub = ''): string {
    return `${this.path}/${encodeURIComponent(name)}${sub}`;
  }

  get(name: string): Promise<T> {
    return kubeRequest<T>(this.kubeConfig, 'GET', this.item(name));
  }

  /** Like get, but null when the object does not exist. */
  async find(name: string): Promise<T | null> {
    try {
      return await this.get(name);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async list(options: { labelSelector?: string } = {}): Promise<T[]> {
    return (await kubeRequest<{ items: T[] }>(this.kubeConfig, 'GET', this.path, { query: { labelSelector: options.labelSelector } })).items;
  }

  create(body: object): Promise<T> {
    return kubeRequest<T>(this.kubeConfig, 'POST', this.path, { body });
  }

  replace(name: string, body: object): Promise<T> {
    return kubeRequest<T>(this.kubeConfig, 'PUT', this.item(name), { body });
  }

  patch(name: string, body: object | JsonPatchOperation[]): Promise<T> {
    return kubeRequest<T>(this.kubeConfig, 'PATCH', this.item(name), { body, contentType: Array.isArray(body) ? JSON_PATCH : MERGE_PATCH });
  }

  patchStatus(name: string, body: object | JsonPatchOperation[]): Promise<T> {
    return kubeRequest<T>(this.kubeConfig, 'PATCH', this.item(name, '/status'), { body, contentType: Array.isArray(body) ? JSON_PATCH : MERGE_PATCH });
  }

  async delete(name: string): Promise<void> {
    await kubeRequest(this.kubeConfig, 'DELETE', this.item(name));
  }

  /** Like delete, but false (no error) when the object did not exist. */
  async deleteIfExists(name: string): Promise<boolean> {
    try {
      await this.delete(name);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** A list-then-watch cache of the collection (see informer.ts); call start() on it. */
  watch(options: { labelSelector?: string } = {}): Informer<T & KubernetesObject> {
    return createInformer<T & KubernetesObject>({ kubeConfig: this.kubeConfig, path: this.path, ...options });
  }
}

/** The StreamSpace kinds of one namespace. Build one per process from the cluster's KubeConfig. */
export class StreamSpaceApi {
  readonly sessions: CustomResourceClient;
  readonly templates: CustomResourceClient;
  readonly connections: CustomResourceClient;
  readonly repositories: CustomResourceClient;

  constructor(
    readonly kubeConfig: KubeConfig,
    readonly namespace: string,
  ) {
    const kind = (plural: string) => new CustomResourceClient(kubeConfig, { group: STREAMSPACE_GROUP, version: STREAMSPACE_VERSION, plural }, namespace);
    this.sessions = kind('sessions');
    this.templates = kind('templates');
    this.connections = kind('connections');
    this.repositories = kind('templaterepositories');
  }

  /** The typed client of one kind: `api.typed<SessionObject>('sessions')`. */
  typed<T extends object>(kind: 'sessions' | 'templates' | 'connections' | 'repositories'): CustomResourceClient<T> {
    return this[kind] as unknown as CustomResourceClient<T>;
  }
}
