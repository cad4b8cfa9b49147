import { CoreV1Api } from '@kubernetes/client-node';
import { isNotFound } from '../../platform/kube/kube-errors';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';

export type EnvObjectLabels = (kind: 'Secret' | 'ConfigMap', name: string) => Promise<Record<string, string> | null>;

const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * Labels of a Secret or ConfigMap in the session namespace (null: it does not exist or the name is not one), read
 * to decide whether a template's env may name it. Only the labels leave this function.
 */
export function envObjectLabels(kube: StreamSpaceApi): EnvObjectLabels {
  const core = kube.kubeConfig.makeApiClient(CoreV1Api);
  return async (kind, name) => {
    if (!OBJECT_NAME.test(name)) return null;
    try {
      const obj = kind === 'Secret' ? await core.readNamespacedSecret({ name, namespace: kube.namespace }) : await core.readNamespacedConfigMap({ name, namespace: kube.namespace });
      return obj.metadata?.labels ?? {};
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  };
}
