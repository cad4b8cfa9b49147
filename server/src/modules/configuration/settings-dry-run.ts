import { randomUUID } from 'node:crypto';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { kubeMessage, kubeStatusCode } from '../../platform/kube/kube-errors';
import { STREAMSPACE_API_VERSION, type StreamSpaceApi } from '../../platform/kube/streamspace-api';
import { buildSessionChildren, HOME_VOLUME } from '../sessions/session-manifests';
import type { SessionLimits } from '../sessions/session-policies';
import type { SessionManifest, SessionWorkloadConfig } from '../sessions/session.crd';
import type { TemplateManifest } from '../templates/template.crd';
import type { SessionObjectKind } from './settings.registry';

/** One object of the sample session as the API server answered its dry run. */
export interface DryRunObject {
  kind: SessionObjectKind;
  name: string;
  accepted: boolean;
  /** The API server's reason for a refusal. */
  message: string | null;
}

export interface DryRunResult {
  /** False when no API server could be asked (no cluster); the values were only checked by their rules. */
  ran: boolean;
  skippedReason: string | null;
  objects: DryRunObject[];
}

/** The sample a dry run builds: a web app with a persistent home, asking for the most a session may get. */
export function sampleSession(namespace: string, limits: SessionLimits): { session: SessionManifest; template: TemplateManifest } {
  const id = randomUUID();
  const name = `settings-dry-run-${id.slice(0, 8)}`;
  const quantity = (cpu: number, memory: number) => ({
    ...(cpu > 0 ? { cpu: `${Math.round(cpu * 1000)}m` } : {}),
    ...(memory > 0 ? { memory: String(Math.round(memory)) } : {}),
  });
  const requests = quantity(limits.defaultCpu, limits.defaultMemory);
  const maximum = quantity(limits.maxCpu, limits.maxMemory);
  const resources = {
    ...(Object.keys(requests).length ? { requests } : {}),
    ...(Object.keys(maximum).length ? { limits: maximum } : {}),
  };
  const template: TemplateManifest = {
    apiVersion: STREAMSPACE_API_VERSION,
    kind: 'Template',
    metadata: { name: 'settings-dry-run', namespace },
    spec: {
      displayName: 'Settings dry run',
      appType: 'webapp',
      baseImage: 'registry.invalid/streamspace/settings-dry-run:1',
      webapp: { port: 8080 },
      volumeMounts: [{ name: HOME_VOLUME, mountPath: '/home/user' }],
    },
  };
  const session: SessionManifest = {
    apiVersion: STREAMSPACE_API_VERSION,
    kind: 'Session',
    metadata: { name, namespace, uid: id, annotations: { 'stream.streamspace.io/user-id': id } },
    spec: { user: 'settings-dry-run', template: template.metadata.name, state: 'running', persistentHome: true, ...(Object.keys(resources).length ? { resources } : {}) },
  };
  return { session, template };
}

/**
 * The server-side dry run of a candidate configuration: the session builders (the reconciler's own) make a sample
 * session's objects with the candidate workload, and the API server runs each create with dryRun=All (validation
 * and admission, LimitRanges and webhooks included) without persisting anything.
 */
export class SettingsDryRun {
  private objects: KubernetesObjectApi | undefined;

  constructor(private readonly kube: StreamSpaceApi | null) {}

  async run(workload: SessionWorkloadConfig, limits: SessionLimits): Promise<DryRunResult> {
    if (!this.kube) {
      return { ran: false, skippedReason: 'No Kubernetes cluster is configured; the values were checked by their rules only', objects: [] };
    }
    this.objects ??= KubernetesObjectApi.makeApiClient(this.kube.kubeConfig);
    const { session, template } = sampleSession(this.kube.namespace, limits);
    const children = buildSessionChildren(session, template, workload);
    const list: (KubernetesObject & { kind: SessionObjectKind })[] = [];
    for (const obj of [children.homeClaim, children.networkPolicy, children.service, children.ingress, children.deployment]) {
      if (obj) list.push(obj as KubernetesObject & { kind: SessionObjectKind });
    }
    const objects = await Promise.all(
      list.map(async (obj): Promise<DryRunObject> => {
        const name = obj.metadata?.name ?? '';
        try {
          await this.objects!.create(obj, undefined, 'All', 'streamspace');
          return { kind: obj.kind, name, accepted: true, message: null };
        } catch (err) {
          const status = kubeStatusCode(err);
          // Anything but the API server's own refusal (unreachable, 5xx) is not a verdict on the values.
          if (status === undefined || status >= 500) throw err;
          return { kind: obj.kind, name, accepted: false, message: kubeMessage(err) };
        }
      }),
    );
    return { ran: true, skippedReason: null, objects };
  }
}
