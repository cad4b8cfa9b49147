import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeHttpError } from '../../platform/kube/kube-http';
import { ClusterMetrics, parseDurationSeconds, unavailableReason } from './cluster-metrics';

describe('cluster metrics: reading the metrics API (pure parts)', () => {
  it('reads the window metrics-server writes as a Go duration', () => {
    expect(parseDurationSeconds('15s')).to.equal(15);
    expect(parseDurationSeconds('20.002s')).to.be.closeTo(20.002, 1e-9);
    expect(parseDurationSeconds('1m0.5s')).to.equal(60.5);
    expect(parseDurationSeconds('1h2m3s')).to.equal(3723);
    expect(parseDurationSeconds('250ms')).to.equal(0.25);
    expect(parseDurationSeconds(undefined)).to.equal(null);
    expect(parseDurationSeconds('soon')).to.equal(null);
  });

  it('says in one line why the metrics API gave nothing', () => {
    expect(unavailableReason(new KubeHttpError(404, 'NotFound', '404 NotFound: the server could not find the requested resource'))).to.equal(
      'the cluster does not serve the metrics API (metrics.k8s.io/v1beta1): install metrics-server',
    );
    expect(unavailableReason(new KubeHttpError(503, 'ServiceUnavailable', '503 ServiceUnavailable: the server is currently unable to handle the request'))).to.equal(
      'the metrics API is registered but its server does not answer: the server is currently unable to handle the request',
    );
    expect(unavailableReason(new KubeHttpError(403, 'Forbidden', '403 Forbidden: nodes.metrics.k8s.io is forbidden'))).to.match(/^the platform may not read the metrics API .*: nodes\.metrics\.k8s\.io is forbidden$/);
    expect(unavailableReason(new Error('connect ECONNREFUSED 127.0.0.1:1\nstack'))).to.equal('the metrics API could not be reached: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('answers with the reason, not an error, without a cluster or with an API server that refuses connections', async () => {
    const none = new ClusterMetrics({ kubeConfig: null });
    expect(await none.nodeUsage()).to.deep.equal({ ok: false, reason: 'the server runs without a Kubernetes cluster' });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const answer = await new ClusterMetrics({ kubeConfig: kc }).podUsage('default');
    expect(answer.ok).to.equal(false);
    expect(answer.ok ? '' : answer.reason).to.match(/^the metrics API could not be reached: .*ECONNREFUSED/);
  });
});
