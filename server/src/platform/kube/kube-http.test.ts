import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { isConflict, isNotFound, kubeMessage } from './kube-errors';
import { KubeHttpError, kubeRequest } from './kube-http';
import { StreamSpaceApi } from './streamspace-api';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * The custom resource clients' requests as the API server receives them (a loopback HTTP server answering like
 * one): verbs, paths, patch content types, credentials, bodies passed through as given, and failures as the
 * API server's Status.
 */
describe('kube-http: requests to the API server', () => {
  let server: http.Server;
  let seen: Seen[];
  let answer: (req: Seen) => { status: number; body: unknown };
  let kc: KubeConfig;

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        seen.push(s);
        const { status, body } = answer(s);
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'the-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });

  beforeEach(() => {
    seen = [];
    answer = () => ({ status: 200, body: { kind: 'Session', metadata: { name: 'a' } } });
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends each verb to its path with the credentials, merge patches for objects and JSON patches for lists', async () => {
    const api = new StreamSpaceApi(kc, 'apps');
    const base = '/apis/stream.streamspace.io/v1alpha1/namespaces/apps/sessions';
    const created = await api.sessions.create({ metadata: { name: 'a' }, spec: { when: '2026-01-01T00:00:00Z', unknownField: 1 } });
    expect(created).to.deep.equal({ kind: 'Session', metadata: { name: 'a' } });
    await api.sessions.patchStatus('a', { status: { activeConnections: 2 } });
    await api.sessions.patch('a', [{ op: 'replace', path: '/spec/state', value: 'hibernated' }]);
    await api.sessions.replace('a', { metadata: { name: 'a', resourceVersion: '7' } });
    await api.sessions.get('a');
    await api.sessions.delete('a');
    answer = () => ({ status: 200, body: { items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }] } });
    const listed = await api.sessions.list({ labelSelector: 'app.kubernetes.io/part-of=streamspace' });
    expect(listed.map((o) => o.metadata.name)).to.deep.equal(['a', 'b']);

    expect(seen.map((s) => `${s.method} ${s.url}`)).to.deep.equal([
      `POST ${base}`,
      `PATCH ${base}/a/status`,
      `PATCH ${base}/a`,
      `PUT ${base}/a`,
      `GET ${base}/a`,
      `DELETE ${base}/a`,
      `GET ${base}?labelSelector=app.kubernetes.io%2Fpart-of%3Dstreamspace`,
    ]);
    for (const s of seen) {
      expect(s.headers.authorization, s.url).to.equal('Bearer the-token');
      expect(s.headers.accept).to.equal('application/json');
    }
    // The body exactly as given: no model drops unknown fields or turns timestamps into something else.
    expect(JSON.parse(seen[0].body)).to.deep.equal({ metadata: { name: 'a' }, spec: { when: '2026-01-01T00:00:00Z', unknownField: 1 } });
    expect(seen[0].headers['content-type']).to.equal('application/json');
    expect(seen[1].headers['content-type']).to.equal('application/merge-patch+json');
    expect(JSON.parse(seen[1].body)).to.deep.equal({ status: { activeConnections: 2 } });
    expect(seen[2].headers['content-type']).to.equal('application/json-patch+json');
    expect(JSON.parse(seen[2].body)).to.deep.equal([{ op: 'replace', path: '/spec/state', value: 'hibernated' }]);
    expect(seen[4].body).to.equal('');
    expect(seen[4].headers['content-type']).to.equal(undefined);
  });

  it("rejects a failure with the API server's Status: code, reason and its own message", async () => {
    const api = new StreamSpaceApi(kc, 'apps');
    answer = () => ({ status: 404, body: { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'sessions.stream.streamspace.io "gone" not found' } });
    const err = await api.sessions.get('gone').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(KubeHttpError);
    expect(isNotFound(err)).to.equal(true);
    expect((err as KubeHttpError).reason).to.equal('NotFound');
    expect(kubeMessage(err)).to.equal('sessions.stream.streamspace.io "gone" not found');
    expect((err as Error).message).to.equal('404 NotFound: sessions.stream.streamspace.io "gone" not found');
    expect(await api.sessions.find('gone')).to.equal(null);
    expect(await api.sessions.deleteIfExists('gone')).to.equal(false);

    answer = () => ({ status: 409, body: { kind: 'Status', reason: 'AlreadyExists', code: 409, message: 'already exists' } });
    const conflict = await api.connections.create({ metadata: { name: 'c' } }).catch((e: unknown) => e);
    expect(isConflict(conflict)).to.equal(true);

    // Not a Status (a proxy's page): the text itself, cut short.
    answer = () => ({ status: 502, body: 'Bad gateway' });
    const bad = await kubeRequest(kc, 'GET', '/version').catch((e: unknown) => e);
    expect((bad as KubeHttpError).statusCode).to.equal(502);
    expect(kubeMessage(bad)).to.equal('Bad gateway');
  });

  it('gives up when the API server does not answer in time, and when aborted', async () => {
    answer = () => ({ status: 200, body: {} });
    const slow = http.createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const slowKc = new KubeConfig();
    slowKc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    try {
      const late = await kubeRequest(slowKc, 'GET', '/version', { idleTimeoutMs: 100 }).catch((e: Error) => e);
      expect((late as Error).message).to.match(/no answer from 127\.0\.0\.1:\d+ within 100 ms/);
      const controller = new AbortController();
      const aborted = kubeRequest(slowKc, 'GET', '/version', { signal: controller.signal }).catch((e: Error) => e);
      setTimeout(() => controller.abort(), 20);
      expect(((await aborted) as Error).name).to.equal('AbortError');
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});
