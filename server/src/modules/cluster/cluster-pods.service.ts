import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { CoreV1Api, Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { AppError, ErrorCode, badInput } from '../../platform/graphql/errors';
import { kubeGetJson, kubeGetStream } from '../../platform/kube/kube-http';
import type { AuditService, AuditSource } from '../audit/audit.service';
import { checkName, checkNamespace, kindOf, requireKubeConfig } from './cluster-checks';
import { auditedCommand } from './cluster-audit';
import { isObjectName, resourcePath } from './cluster-kinds';
import type { ClusterResources } from './cluster-resources.service';
import { channel } from './cluster-stream';
import { fromKube } from './cluster.errors';
import { PlatformGuard, type GuardedOperation } from './cluster-guard';
import { PodExecStreamEnum, PodShellEventKindEnum, type PodExecOutputType, type PodShellEventType } from './dto/cluster.type';

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

/**
 * The admin's pod tools: logs (tail or followed), a command run in a container, and interactive shells. Opening an
 * exec or a shell is audited, success or failure.
 */
export class ClusterPods {
  /** Open interactive shells of this process, by id: input reaches them only here (see podShellInput). */
  private readonly shells = new Map<string, { ownerId: string; stdin: PassThrough; terminal: TerminalStream }>();

  constructor(private readonly deps: { kubeConfig: KubeConfig | null; audit: AuditService; resources: ClusterResources; guard: PlatformGuard }) {}

  /** Refuses (audited, outcome failure) an operation on one of the platform's own pods. */
  private async guard(op: GuardedOperation, action: string, ns: string, name: string, source: AuditSource | undefined, extra: Record<string, unknown> = {}): Promise<void> {
    if (ns !== this.deps.guard.platformNamespace) return;
    const pod = await this.deps.resources.readRaw(kindOf('Pod'), ns, name);
    const reason = this.deps.guard.refusal(op, 'Pod', ns, name, pod?.metadata?.labels);
    if (!reason) return;
    await this.deps.audit.record({ action, resourceType: 'cluster-resource', resourceId: `Pod/${ns}/${name}`, outcome: 'failure', changes: { ...extra, namespace: ns, pod: name, refused: reason }, source: source ?? {} });
    throw PlatformGuard.refused(reason);
  }

  private logQuery(container: string | null | undefined, tailLines: number | null | undefined) {
    const tail = tailLines ?? DEFAULT_LOG_TAIL_LINES;
    if (!Number.isInteger(tail) || tail < 1 || tail > MAX_LOG_TAIL_LINES) throw badInput(`tailLines must be between 1 and ${MAX_LOG_TAIL_LINES}`, { tailLines });
    if (container && !isObjectName(container)) throw badInput(`"${container}" is not a valid container name`, { container });
    return { tailLines: tail, container: container || undefined };
  }

  /** The last lines of a container's log (what `kubectl logs --tail` prints). Audited (`cluster.pod.logs`), success or failure. */
  async podLogs(namespace: string, name: string, container: string | null | undefined, tailLines: number | null | undefined, source?: AuditSource): Promise<string> {
    const info = kindOf('Pod');
    const ns = checkNamespace(info, namespace, true)!;
    const query = this.logQuery(container, tailLines);
    await this.guard('logs', 'cluster.pod.logs', ns, checkName(name), source);
    const audit = this.logAudit(ns, name, query, false, source);
    let text: string;
    try {
      text = await requireKubeConfig(this.deps.kubeConfig)
        .makeApiClient(CoreV1Api)
        .readNamespacedPodLog({ namespace: ns, name: checkName(name), container: query.container, tailLines: query.tailLines, limitBytes: MAX_LOG_BYTES });
    } catch (err) {
      const mapped = fromKube(err, { what: `reading the log of pod ${name}` });
      await audit('failure', mapped.message);
      throw mapped;
    }
    await audit('success');
    return text;
  }

  /** Records one read of a pod's log: who (the source), which pod, namespace and container, and whether it worked. */
  private logAudit(ns: string, name: string, query: { container?: string; tailLines: number }, follow: boolean, source: AuditSource | undefined) {
    return (outcome: 'success' | 'failure', error?: string) =>
      this.deps.audit.record({
        action: 'cluster.pod.logs',
        resourceType: 'cluster-resource',
        resourceId: `Pod/${ns}/${name}`,
        outcome,
        changes: { namespace: ns, pod: name, container: query.container ?? null, tailLines: query.tailLines, follow, ...(error ? { error } : {}) },
        source: source ?? {},
      });
  }

  /**
   * Follows a container's log (`kubectl logs -f`). The request is made before the stream is returned, so a
   * refusal of the API server (no such pod, a kubelet it cannot reach) fails the subscription at once. Audited once,
   * when the stream opens or fails to (`cluster.pod.logs` with follow: true).
   */
  async followPodLogs(namespace: string, name: string, container: string | null | undefined, tailLines: number | null | undefined, source?: AuditSource): Promise<AsyncGenerator<string[]>> {
    const info = kindOf('Pod');
    const ns = checkNamespace(info, namespace, true)!;
    const query = this.logQuery(container, tailLines);
    await this.guard('logs', 'cluster.pod.logs', ns, checkName(name), source);
    const audit = this.logAudit(ns, name, query, true, source);
    const abort = new AbortController();
    let res: Awaited<ReturnType<typeof kubeGetStream>>;
    try {
      res = await kubeGetStream(requireKubeConfig(this.deps.kubeConfig), `${resourcePath(info, ns, checkName(name))}/log`, {
        signal: abort.signal,
        idleTimeoutMs: 60 * 60_000,
        query: { follow: true, container: query.container, tailLines: query.tailLines },
      });
    } catch (err) {
      const mapped = fromKube(err, { what: `following the log of pod ${name}` });
      await audit('failure', mapped.message);
      throw mapped;
    }
    try {
      await audit('success');
    } catch (err) {
      // No audit row, no stream.
      abort.abort();
      res.destroy();
      throw err;
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
    await this.guard('exec', 'cluster.pod.exec', checkNamespace(kindOf('Pod'), namespace, true)!, checkName(name), source, { command: auditedCommand(command) });
    const { ns, target, resourceId } = await this.execTarget(namespace, name, container);
    // Never the arguments as typed: they may hold passwords (the rules are in cluster-audit.ts).
    const changes = { namespace: ns, pod: name, container: target, command: auditedCommand(command) };

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
      const ws = await withDeadline(new Exec(requireKubeConfig(this.deps.kubeConfig)).exec(ns, name, target, command, stdout, stderr, null, false, onStatus), EXEC_CONNECT_TIMEOUT_MS);
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
    const info = kindOf('Pod');
    const ns = checkNamespace(info, namespace, true)!;
    checkName(name);
    const pod = await this.deps.resources.readRaw(info, ns, name);
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
    await this.guard('exec', 'cluster.pod.shell', checkNamespace(kindOf('Pod'), namespace, true)!, checkName(name), source, { command: auditedCommand(cmd) });
    const { ns, target, resourceId } = await this.execTarget(namespace, name, container);
    const shellId = randomUUID();
    const changes = { namespace: ns, pod: name, container: target, command: auditedCommand(cmd), shellId };
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
      const ws = await withDeadline(new Exec(requireKubeConfig(this.deps.kubeConfig)).exec(ns, name, target, cmd, terminal, null, stdin, true, onStatus), EXEC_CONNECT_TIMEOUT_MS);
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
      await kubeGetJson<unknown>(requireKubeConfig(this.deps.kubeConfig), `${resourcePath(kindOf('Pod'), ns, name)}/log`, { query: { container, limitBytes: 1 }, idleTimeoutMs: 10_000 });
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
