import { expect } from 'chai';
import { oneLineReason } from './local-cluster';
import { aggregatorApiserverArgs, FRONT_PROXY_CLIENT, type AggregatorPki } from './metrics-server';

describe('local cluster: metrics-server start-up (pure parts)', () => {
  it('says in one line why a component did not start, with the cause from its log tail', () => {
    const message = 'metrics-server exited during start (code 2):\nI1205 flags ...\n      --vmodule pattern=N\n\npanic: metric-resolution should be larger than kubelet-request-timeout\n\ngoroutine 1 [running]:';
    expect(oneLineReason(message)).to.equal('metrics-server exited during start (code 2): panic: metric-resolution should be larger than kubelet-request-timeout');
    expect(oneLineReason('metrics-server was not ready after 120 s (not ready yet)')).to.equal('metrics-server was not ready after 120 s (not ready yet)');
  });

  it('lets only the front-proxy client assert users in request headers', () => {
    const pki = { frontProxyCaCert: '/p/fp-ca.crt', frontProxyClientCert: '/p/fp.crt', frontProxyClientKey: '/p/fp.key' } as AggregatorPki;
    const args = aggregatorApiserverArgs(pki);
    expect(args).to.include('--requestheader-client-ca-file=/p/fp-ca.crt');
    expect(args).to.include(`--requestheader-allowed-names=${FRONT_PROXY_CLIENT}`);
    expect(args).to.include('--proxy-client-cert-file=/p/fp.crt');
  });
});
