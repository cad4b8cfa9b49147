import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Certificates of the real node, all issued by the local cluster's CA (pki.ts). */
export interface NodePki {
  /** kubelet -> API server: user system:node:<node>, group system:nodes (the Node authorizer's subjects). */
  kubeletClientCert: string;
  kubeletClientKey: string;
  /** kubelet's HTTPS endpoint, for the node's address; the API server verifies it against the CA. */
  kubeletServingCert: string;
  kubeletServingKey: string;
  /** API server -> kubelet (logs, exec, port-forward): a user the kubelet authorizes through a SubjectAccessReview. */
  apiserverKubeletClientCert: string;
  apiserverKubeletClientKey: string;
  /** kube-proxy -> API server: system:kube-proxy, bound to system:node-proxier by the bootstrap policy. */
  kubeProxyClientCert: string;
  kubeProxyClientKey: string;
  /** The NetworkPolicy agent -> API server: a user bound to a ClusterRole of its own (reads pods, namespaces, policies). */
  netpolAgentClientCert: string;
  netpolAgentClientKey: string;
}

export const APISERVER_KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';
export const NETPOL_AGENT_USER = 'streamspace:netpol-agent';

/** Issues the node's certificates (or keeps existing ones) in `dir` with the CA in caCert/caKey. */
export async function ensureNodePki(dir: string, caCert: string, caKey: string, nodeName: string, nodeIp: string): Promise<NodePki> {
  const f = (n: string) => path.join(dir, n);
  const pki: NodePki = {
    kubeletClientCert: f('kubelet-client.crt'),
    kubeletClientKey: f('kubelet-client.key'),
    kubeletServingCert: f('kubelet-serving.crt'),
    kubeletServingKey: f('kubelet-serving.key'),
    apiserverKubeletClientCert: f('apiserver-kubelet-client.crt'),
    apiserverKubeletClientKey: f('apiserver-kubelet-client.key'),
    kubeProxyClientCert: f('kube-proxy.crt'),
    kubeProxyClientKey: f('kube-proxy.key'),
    netpolAgentClientCert: f('netpol-agent.crt'),
    netpolAgentClientKey: f('netpol-agent.key'),
  };
  const issue = async (cert: string, key: string, subject: string, ext: string[]) => {
    if (existsSync(cert) && existsSync(key)) return;
    const openssl = (args: string[]) => execFileAsync('openssl', args, { cwd: dir });
    const extFile = `${cert}.ext`;
    const csr = `${cert}.csr`;
    await writeFile(extFile, ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', ...ext, ''].join('\n'));
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    await openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
    await openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-CAserial', f('ca.srl'), '-sha256', '-days', '3650', '-extfile', extFile, '-out', cert]);
    await rm(csr, { force: true });
    await rm(extFile, { force: true });
  };
  // One after the other: they share the serial file.
  await issue(pki.kubeletClientCert, pki.kubeletClientKey, `/O=system:nodes/CN=system:node:${nodeName}`, ['extendedKeyUsage=clientAuth']);
  await issue(pki.kubeletServingCert, pki.kubeletServingKey, `/CN=${nodeName}`, [
    'extendedKeyUsage=serverAuth',
    `subjectAltName=IP:${nodeIp},DNS:${nodeName}`,
  ]);
  await issue(pki.apiserverKubeletClientCert, pki.apiserverKubeletClientKey, `/CN=${APISERVER_KUBELET_CLIENT_USER}`, ['extendedKeyUsage=clientAuth']);
  await issue(pki.kubeProxyClientCert, pki.kubeProxyClientKey, '/CN=system:kube-proxy', ['extendedKeyUsage=clientAuth']);
  await issue(pki.netpolAgentClientCert, pki.netpolAgentClientKey, `/CN=${NETPOL_AGENT_USER}`, ['extendedKeyUsage=clientAuth']);
  return pki;
}
