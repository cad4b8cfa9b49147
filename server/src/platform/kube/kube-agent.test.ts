import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { reuseConnections } from './kube-agent';

function kubeConfig(server: string, user: { token?: string; certData?: string; keyData?: string }, proxyUrl?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: false, caData: Buffer.from('not really a CA').toString('base64'), ...(proxyUrl ? { proxyUrl } : {}) }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function agentOf(kc: KubeConfig): Promise<https.Agent> {
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  return options.agent as https.Agent;
}

describe('reuseConnections (one keep-alive pool per API server and TLS identity)', () => {
  it('gives every request of a KubeConfig the same keep-alive agent (client-node alone makes one per request)', async () => {
    const plain = kubeConfig('https://127.0.0.1:6443', { token: 't1' });
    expect(await agentOf(plain), 'client-node alone').to.not.equal(await agentOf(plain));
    const kc = reuseConnections(kubeConfig('https://127.0.0.1:6443', { token: 't1' }));
    const first = await agentOf(kc);
    expect(first).to.be.instanceOf(https.Agent);
    expect((first as unknown as { keepAlive: boolean }).keepAlive).to.equal(true);
    expect(await agentOf(kc)).to.equal(first);
  });

  it('keeps a token out of the key (a header), and gives a different client certificate its own agent', async () => {
    const kc = reuseConnections(kubeConfig('https://127.0.0.1:6443', { certData: Buffer.from('cert-a').toString('base64'), keyData: Buffer.from('key-a').toString('base64') }));
    const a = await agentOf(kc);
    kc.users[0] = { ...kc.users[0], certData: Buffer.from('cert-b').toString('base64') };
    const b = await agentOf(kc);
    expect(b).to.not.equal(a);
    expect(await agentOf(kc)).to.equal(b);
  });

  it("leaves a proxied cluster to the library's own agents", async () => {
    const kc = reuseConnections(kubeConfig('https://127.0.0.1:6443', { token: 't' }, 'http://127.0.0.1:3128'));
    expect(await agentOf(kc)).to.not.equal(await agentOf(kc));
  });
});
