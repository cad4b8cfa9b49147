import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { CoreV1Api, Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { kubeSend } from './cluster-kube-request';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { AppError, ErrorCode, badInput } from '../../platform/graphql/errors';
import { decodeCursor, encodeCursor, pageSize } from '../../platform/graphql/pagination';
import { createInformer } from '../../platform/kube/informer';
import { kubeGetJson, kubeGetStream } from '../../platform/kube/kube-http';
import { isObjectName, kindInfo, resourcePath, type ClusterKind, type KindInfo } from './cluster-kinds';
import { ManifestError, parseManifest, prepareApply, sanitizeObject, secretKeys, statusSummary, type KubeObject } from './cluster-manifest';
import { fromKube, invalidManifest, noCluster, unknownKind } from './cluster.errors';
import {
  ClusterChangeTypeEnum,
  PodExecStreamEnum,
  PodShellEventKindEnum,
  type ClusterNamespaceType,
  type ClusterNodeType,
  type ClusterResourceChangeType,
  type ClusterResourceConnectionType,
  type ClusterResourceType,
  type PodExecOutputType,
  type PodShellEventType,
  type ResourceQuantityType,
} from './dto/cluster.type';

/** fieldManager of server-side apply: the admin console's edits show up under this name in managedFields. */
export const FIELD_MANAGER = 'streamspace-admin';
export const MAX_LOG_TAIL_LINES = 10_000;
const DEFAULT_LOG_TAIL_LINES = 500;
const MAX_LOG_BYTES = 2 * 1024 * 1024;
/** client-node's Exec has no deadline of its own: a WebSocket upgrade that never answers must not hang a subscription. */
const EXEC_CONNECT_TIMEOUT_MS = 30_000;

/** Rejects when `promise` has not settled within `ms`; a late WebSocket is closed. */
function withDeadline<T extends { close(): void }>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new Error(`the API server did not open the connection within ${ms / 1000} s`));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (late) value.close();
        else resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!late) reject(err as Error);
      },
    );
  });
}

interface ObjectList {
  metadata?: { continue?: string; remainingItemCount?: number; resourceVersion?: string };
  items?: KubeObject[];
}

function date(value: unknown): Date | null {
  return typeof value === 'string' ? new Date(value) : null;
}

function quantities(map: Record<string, string> | undefined): ResourceQuantityType[] {
  return Object.entries(map ?? {})
    .map(([name, value]) => ({ name, value: String(value) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The GraphQL view of one object; sanitizes first, so no caller can forget to redact a Secret. */
export function toClusterResource(info: KindInfo, raw: KubeObject): ClusterResourceType {
  const obj = sanitizeObject(info.kind, raw);
  const meta = obj.metadata ?? {};
  const spec = (obj.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[] };
  return {
    kind: info.kind,
    apiVersion: info.apiVersion,
    name: meta.name ?? '',
    namespace: info.namespaced ? (meta.namespace ?? null) : null,
    uid: meta.uid ?? null,
    resourceVersion: meta.resourceVersion ?? null,
    createdAt: date(meta.creationTimestamp),
    labels: meta.labels ?? {},
    annotations: meta.annotations ?? {},
    status: statusSummary(info.kind, obj),
    secretKeys: info.kind === 'Secret' ? secretKeys(raw) : null,
    containers: info.kind === 'Pod' ? [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c) => c.name) : null,
    object: obj,
  };
}

/** Async queue feeding a subscription from callbacks; return() runs the cleanup. */
function channel<T>(cleanup: () => void | Promise<void>) {
  const values: T[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let ended = false;
  const iterator: AsyncGenerator<T> = {
    async next() {
      for (;;) {
        if (values.length) return { value: values.shift()!, done: false };
        if (failure) {
          const err = failure;
          failure = undefined;
          ended = true;
          await cleanup();
          throw err;
        }
        if (ended) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    async return() {
      ended = true;
      values.length = 0;
      wake?.();
      await cleanup();
      return { value: undefined, done: true };
    },
    async throw(err: unknown) {
      ended = true;
      await cleanup();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return {
    iterator,
    push(value: T) {
      if (ended) return;
      values.push(value);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    fail(err: Error) {
      failure = err;
      wake?.();
    },
  };
}

/**
 * The admin's view of the cluster: generic list/get/apply/delete over the allow-listed kinds, nodes and
 * namespaces, pod logs (once or followed), a command run in a container, and watches. Every change is audited;
 * every object passes through toClusterResource, which redacts Secrets.
 */
export class ClusterService {
  /** Open interactive shells of this process, by id: input reaches them only here (see podShellInput). */
  private readonly shells = new Map<string, { ownerId: string; stdin: PassThrough; terminal: TerminalStream }>();

  constructor(private readonly deps: { kubeConfig: KubeConfig | null; audit: AuditService }) {}

  private kc(): KubeConfig {
    if (!this.deps.kubeConfig) throw noCluster();
    return this.deps.kubeConfig;
  }

  private info(kind: string): KindInfo {
    const info = kindInfo(kind);
    if (!info) throw unknownKind(kind);
    return info;
  }

  private checkNamespace(info: KindInfo, namespace: string | null | undefined, required: boolean): string | undefined {
    if (namespace === null || namespace === undefined || namespace === '') {
      if (required && info.namespaced) throw badInput(`namespace is required for a ${info.kind}`);
      return undefined;
    }
    if (!info.namespaced) throw badInput(`${info.kind} is cluster-scoped: give no namespace`, { namespace });
    if (!isObjectName(namespace)) throw badInput(`"${namespace}" is not a valid namespace name`, { namespace });
    return namespace;
  }

  private checkName(name: string): string {
    if (!isObjectName(name)) throw badInput(`"${name}" is not a valid object name`, { name });
    return name;
  }

  async nodes(): Promise<ClusterNodeType[]> {
    let list: ObjectList;
    try {
      list = await kubeGetJson<ObjectList>(this.kc(), '/api/v1/nodes');
    } catch (err) {
      throw fromKube(err, { what: 'listing nodes' });
    }
    return (list.items ?? [])
      .map((node) => {
        const status = (node.status ?? {}) as {
          capacity?: Record<string, string>;
          allocatable?: Record<string, string>;
          conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
          nodeInfo?: { kubeletVersion?: string };
          addresses?: { type: string; address: string }[];
        };
        const conditions = status.conditions ?? [];
        return {
          name: node.metadata?.name ?? '',
          ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
          unschedulable: Boolean((node.spec as { unschedulable?: boolean } | undefined)?.unschedulable),
          kubeletVersion: status.nodeInfo?.kubeletVersion ?? null,
          internalIp: status.addresses?.find((a) => a.type === 'InternalIP')?.address ?? null,
          capacity: quantities(status.capacity),
          allocatable: quantities(status.allocatable),
          conditions: conditions.map((c) => ({
            type: c.type,
            status: c.status,
            reason: c.reason ?? null,
            message: c.message ?? null,
            lastTransitionTime: date(c.lastTransitionTime),
          })),
          labels: node.metadata?.labels ?? {},
          createdAt: date(node.metadata?.creationTimestamp),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async namespaces(): Promise<ClusterNamespaceType[]> {
    let list: ObjectList;
    try {
      list = await kubeGetJson<ObjectList>(this.kc(), '/api/v1/namespaces');
    } catch (err) {
      throw fromKube(err, { what: 'listing namespaces' });
    }
    return (list.items ?? [])
      .map((ns) => ({
        name: ns.metadata?.name ?? '',
        phase: ((ns.status as { phase?: string } | undefined)?.phase) ?? null,
        labels: ns.metadata?.labels ?? {},
        createdAt: date(ns.metadata?.creationTimestamp),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * One page of a kind, in the API server's order, paged with its own continue tokens (the cursor carries the
   * token and the offset, so totalCount stays right on later pages).
   */
  async list(kind: string, args: { namespace?: string | null; first?: number; after?: string; labelSelector?: string | null }): Promise<ClusterResourceConnectionType> {
    const info = this.info(kind);
    const namespace = this.checkNamespace(info, args.namespace, false);
    const size = pageSize(args.first);
    let continueToken: string | undefined;
    let offset = 0;
    if (args.after) {
      const [token, at] = decodeCursor(args.after, 2);
      if (typeof token !== 'string' || typeof at !== 'number' || !token) throw badInput('The `after` cursor is not valid', { after: args.after });
      // The API server continues a list only from the end of a page.
      if (token.startsWith('@')) throw badInput('Only a page\'s endCursor continues a cluster list', { after: args.after });
      continueToken = token;
      offset = at;
    }
    if (args.labelSelector && args.labelSelector.length > 1024) throw badInput('labelSelector is too long (at most 1024 characters)');
    let list: ObjectList;
    try {
      list = await kubeGetJson<ObjectList>(this.kc(), resourcePath(info, namespace), {
        query: { limit: size, continue: continueToken, labelSelector: args.labelSelector || undefined },
      });
    } catch (err) {
      throw fromKube(err, { what: `listing ${info.plural}` });
    }
    const items = list.items ?? [];
    const next = list.metadata?.continue || null;
    const end = offset + items.length;
    const remaining = list.metadata?.remainingItemCount;
    const totalCount = next ? (typeof remaining === 'number' ? end + remaining : null) : end;
    const edges = items.map((item, i) => ({ node: toClusterResource(info, item), cursor: encodeCursor([`@${offset + i + 1}`, offset + i + 1]) }));
    // Only the last edge can continue the list (the API server has one token per page).
    if (edges.length && next) edges[edges.length - 1]!.cursor = encodeCursor([next, end]);
    return {
      edges,
      totalCount,
      pageInfo: {
        hasNextPage: Boolean(next),
        hasPreviousPage: Boolean(args.after),
        startCursor: edges[0]?.cursor ?? null,
        endCursor: next ? encodeCursor([next, end]) : (edges.at(-1)?.cursor ?? null),
      },
    };
  }

  private async readRaw(info: KindInfo, namespace: string | undefined, name: string): Promise<KubeObject | null> {
    try {
      return await kubeGetJson<KubeObject>(this.kc(), resourcePath(info, namespace, name));
    } catch (err) {
      const mapped = fromKube(err, { what: `reading ${info.kind} ${name}`, secret: info.kind === 'Secret' });
      if (mapped instanceof AppError && mapped.code === ErrorCode.NOT_FOUND) return null;
      throw mapped;
    }
  }

  async get(kind: string, namespace: string | null | undefined, name: string): Promise<ClusterResourceType | null> {
    const info = this.info(kind);
    const ns = this.checkNamespace(info, namespace, true);
    const raw = await this.readRaw(info, ns, this.checkName(name));
    return raw ? toClusterResource(info, raw) : null;
  }

  /** Server-side apply of one validated manifest (fieldManager streamspace-admin); audited, success or failure. */
  async apply(yaml: string, force: boolean, source: AuditSource): Promise<ClusterResourceType> {
    let parsed: ReturnType<typeof parseManifest>;
    try {
      parsed = parseManifest(yaml);
    } catch (err) {
      if (err instanceof ManifestError) throw invalidManifest(err.problems);
      throw err;
    }
    const { info, object } = parsed;
    const name = object.metadata!.name!;
    const namespace = info.namespaced ? object.metadata!.namespace! : undefined;
    const resourceId = [info.kind, namespace, name].filter(Boolean).join('/');
    const kc = this.kc();
    const current = await this.readRaw(info, namespace, name);
    let body: KubeObject;
    try {
      body = prepareApply(info, object, current);
    } catch (err) {
      if (err instanceof ManifestError) throw invalidManifest(err.problems);
      throw err;
    }
    const audit = (outcome: 'success' | 'failure', extra: Record<string, unknown> = {}) =>
      this.deps.audit.record({
        action: 'cluster.apply',
        resourceType: 'cluster-resource',
        resourceId,
        outcome,
        // Never the manifest itself: a Secret's values must not reach the audit log either.
        changes: { kind: info.kind, namespace: namespace ?? null, name, created: !current, force, ...extra },
        source,
      });
    let saved: KubeObject;
    try {
      saved = await kubeSend<KubeObject>(kc, 'PATCH', resourcePath(info, namespace, name), {
        body,
        contentType: 'application/apply-patch+yaml',
        // Strict: an unknown or duplicated field (a typo) is an error, not silently dropped.
        query: { fieldManager: FIELD_MANAGER, force: force || undefined, fieldValidation: 'Strict' },
      });
    } catch (err) {
      const mapped = fromKube(err, { what: `applying ${info.kind} ${name}`, secret: info.kind === 'Secret' });
      await audit('failure', { error: mapped.message });
      throw mapped;
    }
    await audit('success');
    return toClusterResource(info, saved);
  }

  async delete(kind: string, namespace: string | null | undefined, name: string, source: AuditSource): Promise<boolean> {
    const info = this.info(kind);
    const ns = this.checkNamespace(info, namespace, true);
    this.checkName(name);
    const resourceId = [info.kind, ns, name].filter(Boolean).join('/');
    try {
      await kubeSend(this.kc(), 'DELETE', resourcePath(info, ns, name), { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } });
    } catch (err) {
      const mapped = fromKube(err, { what: `deleting ${info.kind} ${name}` });
      if (!(mapped instanceof AppError && mapped.code === ErrorCode.NOT_FOUND)) {
        await this.deps.audit.record({ action: 'cluster.delete', resourceType: 'cluster-resource', resourceId, outcome: 'failure', changes: { error: mapped.message }, source });
      }
      throw mapped;
    }
    await this.deps.audit.record({ action: 'cluster.delete', resourceType: 'cluster-resource', resourceId, changes: { kind: info.kind, namespace: ns ?? null, name }, source });
    return true;
  }

  private logQuery(container: string | null | undefined, tailLines: number | null | undefined) {
    const tail = tailLines ?? DEFAULT_LOG_TAIL_LINES;
    if (!Number.isInteger(tail) || tail < 1 || tail > MAX_LOG_TAIL_LINES) throw badInput(`tailLines must be between 1 and ${MAX_LOG_TAIL_LINES}`, { tailLines });
    if (container && !isObjectName(container)) throw badInput(`"${container}" is not a valid container name`, { container });
    return { tailLines: tail, container: container || undefined };
  }

  /** The last lines of a container's log (what `kubectl logs --tail` prints). */
  async podLogs(namespace: string, name: string, container: string | null | undefined, tailLines: number | null | undefined): Promise<string> {
    const info = this.info('Pod');
    const ns = this.checkNamespace(info, namespace, true)!;
    const query = this.logQuery(container, tailLines);
    try {
      return await this.kc()
        .makeApiClient(CoreV1Api)
        .readNamespacedPodLog({ namespace: ns, name: this.checkName(name), container: query.container, tailLines: query.tailLines, limitBytes: MAX_LOG_BYTES });
    } catch (err) {
      throw fromKube(err, { what: `reading the log of pod ${name}` });
    }
  }

  /**
   * Follows a container's log (`kubectl logs -f`). The request is made before the stream is returned, so a
   * refusal of the API server (no such pod, a kubelet it cannot reach) fails the subscription at once.
   */
  async followPodLogs(namespace: string, name: string, container: string | null | undefined, tailLines: number | null | undefined): Promise<AsyncGenerator<string[]>> {
    const info = this.info('Pod');
    const ns = this.checkNamespace(info, namespace, true)!;
    const query = this.logQuery(container, tailLines);
    const abort = new AbortController();
    let res: Awaited<ReturnType<typeof kubeGetStream>>;
    try {
      res = await kubeGetStream(this.kc(), `${resourcePath(info, ns, this.checkName(name))}/log`, {
        signal: abort.signal,
        idleTimeoutMs: 60 * 60_000,
        query: { follow: true, container: query.container, tailLines: query.tailLines },
      });
    } catch (err) {
      throw fromKube(err, { what: `following the log of pod ${name}` });
    }
    const ch = channel<string[]>(() => {
      abort.abort();
      res.destroy();
    });
    let buffered = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      if (lines.length) ch.push(lines);
    });
    res.on('end', () => {
      if (buffered) ch.push([buffered]);
      ch.end();
    });
    res.on('error', (err) => (abort.signal.aborted ? ch.end() : ch.fail(fromKube(err, { what: `following the log of pod ${name}` }))));
    return ch.iterator;
  }

  /**
   * Runs a command in a container (no TTY, no stdin) and streams its output, then an EXIT event. Audited before
   * anything runs; when the API server refuses (no kubelet to reach, as with kwok's simulated nodes), the audit
   * row records the failure and the subscription fails with the API server's message.
   */
  async exec(namespace: string, name: string, container: string | null | undefined, command: string[], source: AuditSource): Promise<AsyncGenerator<PodExecOutputType>> {
    if (!command.length || command.length > 64 || command.some((c) => typeof c !== 'string' || c.length > 4096)) {
      throw badInput('command must have 1 to 64 arguments of at most 4096 characters');
    }
    const { ns, target, resourceId } = await this.execTarget(namespace, name, container);
    const changes = { namespace: ns, pod: name, container: target, command };

    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let socket: { close(): void } | undefined;
    const ch = channel<PodExecOutputType>(() => {
      socket?.close();
    });
    stdout.on('data', (b: Buffer) => ch.push({ stream: PodExecStreamEnum.STDOUT, data: b.toString('utf8'), exitCode: null }));
    stderr.on('data', (b: Buffer) => ch.push({ stream: PodExecStreamEnum.STDERR, data: b.toString('utf8'), exitCode: null }));
    const onStatus = (status: V1Status) => {
      const exitCause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
      const exitCode = status.status === 'Success' ? 0 : exitCause?.message ? Number(exitCause.message) : null;
      ch.push({ stream: PodExecStreamEnum.EXIT, data: status.message ?? status.status ?? '', exitCode: Number.isFinite(exitCode) ? exitCode : null });
      ch.end();
    };
    try {
      const ws = await withDeadline(new Exec(this.kc()).exec(ns, name, target, command, stdout, stderr, null, false, onStatus), EXEC_CONNECT_TIMEOUT_MS);
      socket = ws;
      ws.on('close', () => ch.end());
    } catch (err) {
      const message = await this.execFailureReason(err, ns, name, target);
      await this.deps.audit.record({ action: 'cluster.pod.exec', resourceType: 'cluster-resource', resourceId, outcome: 'failure', changes: { ...changes, error: message }, source });
      throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, `Kubernetes could not run the command in pod ${name}: ${message}`);
    }
    await this.deps.audit.record({ action: 'cluster.pod.exec', resourceType: 'cluster-resource', resourceId, changes, source });
    return ch.iterator;
  }

  private async execTarget(namespace: string, name: string, container: string | null | undefined) {
    const info = this.info('Pod');
    const ns = this.checkNamespace(info, namespace, true)!;
    this.checkName(name);
    const pod = await this.readRaw(info, ns, name);
    if (!pod) throw new AppError(ErrorCode.NOT_FOUND, `Pod "${ns}/${name}" was not found`, { namespace: ns, name });
    const containers = ((pod.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).map((c) => c.name);
    const target = container || containers[0];
    if (!target || !containers.includes(target)) throw badInput(`pod ${name} has no container "${container ?? ''}"`, { containers });
    return { ns, target, resourceId: `Pod/${ns}/${name}` };
  }

  /**
   * An interactive shell (TTY) in a container. The stream starts with READY (carrying the shell id), then the
   * terminal's output, then EXIT. Keystrokes come back through input(); only the admin who opened the shell, on
   * this process, can type into it. Opening is audited (keystrokes are not: they may contain passwords).
   */
  async shell(
    namespace: string,
    name: string,
    container: string | null | undefined,
    command: string[] | null | undefined,
    caller: { id: string },
    source: AuditSource,
  ): Promise<AsyncGenerator<PodShellEventType>> {
    const cmd = command?.length ? command : ['/bin/sh'];
    if (cmd.length > 64 || cmd.some((c) => typeof c !== 'string' || c.length > 4096)) throw badInput('command must have 1 to 64 arguments of at most 4096 characters');
    const { ns, target, resourceId } = await this.execTarget(namespace, name, container);
    const shellId = randomUUID();
    const changes = { namespace: ns, pod: name, container: target, command: cmd, shellId };
    const stdin = new PassThrough();
    const terminal = new TerminalStream();
    let socket: { close(): void } | undefined;
    const ch = channel<PodShellEventType>(() => {
      this.shells.delete(shellId);
      stdin.end();
      socket?.close();
    });
    terminal.on('data', (b: Buffer) => ch.push({ shellId, kind: PodShellEventKindEnum.OUTPUT, data: b.toString('utf8'), exitCode: null }));
    const onStatus = (status: V1Status) => {
      const exitCause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
      const exitCode = status.status === 'Success' ? 0 : exitCause?.message ? Number(exitCause.message) : null;
      ch.push({ shellId, kind: PodShellEventKindEnum.EXIT, data: status.message ?? status.status ?? '', exitCode: Number.isFinite(exitCode) ? exitCode : null });
      ch.end();
    };
    try {
      const ws = await withDeadline(new Exec(this.kc()).exec(ns, name, target, cmd, terminal, null, stdin, true, onStatus), EXEC_CONNECT_TIMEOUT_MS);
      socket = ws;
      ws.on('close', () => {
        this.shells.delete(shellId);
        ch.end();
      });
    } catch (err) {
      const message = await this.execFailureReason(err, ns, name, target);
      await this.deps.audit.record({ action: 'cluster.pod.shell', resourceType: 'cluster-resource', resourceId, outcome: 'failure', changes: { ...changes, error: message }, source });
      throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, `Kubernetes could not open a shell in pod ${name}: ${message}`);
    }
    this.shells.set(shellId, { ownerId: caller.id, stdin, terminal });
    await this.deps.audit.record({ action: 'cluster.pod.shell', resourceType: 'cluster-resource', resourceId, changes, source });
    ch.push({ shellId, kind: PodShellEventKindEnum.READY, data: '', exitCode: null });
    return ch.iterator;
  }

  /**
   * Why an exec upgrade failed. client-node reports only "Unexpected server response: 500" (it does not read the
   * body of a refused WebSocket upgrade), so a 5xx is explained by asking the API server for one byte of the same
   * container's log: both go through the node's kubelet, and the log request returns the API server's own reason.
   */
  private async execFailureReason(err: unknown, ns: string, name: string, container: string): Promise<string> {
    const message = execFailure(err);
    if (!/\b5\d\d\b/.test(message)) return message;
    try {
      await kubeGetJson<unknown>(this.kc(), `${resourcePath(this.info('Pod'), ns, name)}/log`, { query: { container, limitBytes: 1 }, idleTimeoutMs: 10_000 });
      return message;
    } catch (probe) {
      const failure = fromKube(probe, { what: 'reaching the kubelet' });
      return `${message} (the API server cannot reach the node's kubelet: ${failure.message.replace(/^Kubernetes could not do reaching the kubelet: /, '')})`;
    }
  }

  /** Keystrokes (and an optional new terminal size) for an open shell of this caller on this process. */
  input(shellId: string, caller: { id: string }, data: string, size?: { cols?: number | null; rows?: number | null }): boolean {
    const shell = this.shells.get(shellId);
    // Someone else's shell answers NOT_FOUND, like a missing one: its existence is not revealed.
    if (!shell || shell.ownerId !== caller.id) throw new AppError(ErrorCode.NOT_FOUND, `Shell "${shellId}" is not open on this connection`, { shellId });
    if (data.length > 65536) throw badInput('at most 64 KiB of input at once');
    if (size?.cols && size?.rows) shell.terminal.resize(size.cols, size.rows);
    if (data) shell.stdin.write(data);
    return true;
  }

  /**
   * Changes of one kind (in one namespace or all) from now on, fed by a list-then-watch informer that resumes
   * after dropped connections. The objects that exist when it starts are not replayed.
   */
  async watch(kind: string, namespace: string | null | undefined): Promise<AsyncGenerator<ClusterResourceChangeType>> {
    const info = this.info(kind);
    const ns = this.checkNamespace(info, namespace, false);
    const informer = createInformer({
      kubeConfig: this.kc(),
      path: resourcePath(info, ns),
      initialBackoffMs: 500,
    });
    const ch = channel<ClusterResourceChangeType>(() => informer.stop());
    let synced = false;
    const emit = (type: ClusterChangeTypeEnum) => (obj: object) => {
      if (synced) ch.push({ type, resource: toClusterResource(info, obj as KubeObject) });
    };
    informer.on('add', emit(ClusterChangeTypeEnum.ADDED));
    informer.on('update', emit(ClusterChangeTypeEnum.MODIFIED));
    informer.on('delete', emit(ClusterChangeTypeEnum.DELETED));
    informer.on('synced', () => {
      synced = true;
    });
    // The first list must work (permissions, a reachable API server); later failures are retried by the informer.
    const first = new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        informer.off('error', onError);
        reject(err);
      };
      informer.on('error', onError);
      informer.start().then(() => {
        informer.off('error', onError);
        resolve();
      }, reject);
    });
    try {
      await first;
    } catch (err) {
      await informer.stop();
      throw fromKube(err, { what: `watching ${info.plural}` });
    }
    return ch.iterator;
  }
}

/** stdout of a TTY exec: client-node reads `columns`/`rows` and listens for 'resize' (a ResizableStream). */
class TerminalStream extends PassThrough {
  columns = 80;
  rows = 24;

  resize(cols: number, rows: number): void {
    const c = Math.max(10, Math.min(500, Math.round(cols)));
    const r = Math.max(5, Math.min(200, Math.round(rows)));
    if (c === this.columns && r === this.rows) return;
    this.columns = c;
    this.rows = r;
    this.emit('resize');
  }
}

function execFailure(err: unknown): string {
  const e = err as { message?: string; status?: V1Status; body?: unknown };
  if (e?.status?.message) return e.status.message;
  const text = e?.message ?? String(err);
  return text.slice(0, 1000);
}

export type { ClusterKind };
