import { type KubeConfig, type KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import type { RealNodeImages } from './real-node';

/**
 * Templates for the images the real node was given (scripts/images/build.sh), so a newcomer with no internet
 * can launch a real desktop and a real web app right after `npm start`. Created once; an admin may edit or
 * delete them like any other Template.
 */
export function demoTemplates(images: RealNodeImages, namespace: string): KubernetesObject[] {
  const home = [{ name: 'user-home', mountPath: '/home/streamspace' }];
  const labels = { 'app.kubernetes.io/managed-by': 'streamspace-local-cluster' };
  return [
    {
      apiVersion: 'stream.streamspace.io/v1alpha1',
      kind: 'Template',
      metadata: { name: 'demo-desktop', namespace, labels },
      spec: {
        displayName: 'Demo Desktop',
        description: 'A real X desktop built on this machine: TigerVNC, twm and xterm, shown through noVNC.',
        category: 'Desktops',
        baseImage: images.desktop,
        appType: 'desktop',
        vnc: { enabled: true, port: 6080 },
        volumeMounts: home,
        defaultResources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } },
      },
    } as KubernetesObject,
    {
      apiVersion: 'stream.streamspace.io/v1alpha1',
      kind: 'Template',
      metadata: { name: 'demo-webapp', namespace, labels },
      spec: {
        displayName: 'Demo Web App',
        description: 'A small web application built on this machine (busybox httpd) with a health endpoint.',
        category: 'Development',
        baseImage: images.webapp,
        appType: 'webapp',
        webapp: { port: 8080, path: '/', healthCheck: { path: '/healthz', initialDelaySeconds: 0, periodSeconds: 2 } },
        volumeMounts: home,
        defaultResources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '128Mi' } },
      },
    } as KubernetesObject,
  ];
}

/** Creates the demo Templates that do not exist yet; an admin's edits are kept (a deleted one comes back on the next start). */
export async function createDemoTemplates(kubeConfig: KubeConfig, templates: KubernetesObject[]): Promise<string[]> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig);
  const created: string[] = [];
  for (const t of templates) {
    try {
      await client.create(t);
      created.push(t.metadata!.name!);
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
  return created;
}
