import type { KubeConfig } from '@kubernetes/client-node';
import { badInput } from '../../platform/graphql/errors';
import { noCluster } from '../../platform/kube/kube-errors';
import { isNamespaceName, isObjectName, kindInfo, type KindInfo } from './cluster-kinds';
import { unknownKind } from './cluster.errors';

/** Argument checks shared by the resource and pod tools: each answers BAD_USER_INPUT with what is wrong. */

/** The cluster's KubeConfig, or SERVICE_UNAVAILABLE when the server runs without one. */
export function requireKubeConfig(kubeConfig: KubeConfig | null): KubeConfig {
  if (!kubeConfig) throw noCluster();
  return kubeConfig;
}

/** The allow-listed kind, or BAD_USER_INPUT. */
export function kindOf(kind: string): KindInfo {
  const info = kindInfo(kind);
  if (!info) throw unknownKind(kind);
  return info;
}

export function checkNamespace(info: KindInfo, namespace: string | null | undefined, required: boolean): string | undefined {
  if (namespace === null || namespace === undefined || namespace === '') {
    if (required && info.namespaced) throw badInput(`namespace is required for a ${info.kind}`);
    return undefined;
  }
  if (!info.namespaced) throw badInput(`${info.kind} is cluster-scoped: give no namespace`, { namespace });
  if (!isNamespaceName(namespace)) throw badInput(`"${namespace}" is not a valid namespace name (a DNS-1123 label: at most 63 lower-case letters, digits and "-")`, { namespace });
  return namespace;
}

export function checkName(name: string): string {
  if (!isObjectName(name)) throw badInput(`"${name}" is not a valid object name`, { name });
  return name;
}
