import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import express from 'express';
import { createLogger } from '../logging/logger';
import { accessLog, type LoggedRequest } from './access-log';

describe('access log', () => {
  const lines: Record<string, unknown>[] = [];
  let server: http.Server;
  let url: string;

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const app = express();
    app.use(accessLog(createLogger('info', sink), ['/healthz']));
    app.get('/healthz', (_req, res) => void res.send('ok'));
    app.get('/boom', (_req, res) => void res.status(503).send('down'));
    app.get('/work', (req, res) => {
      (req as LoggedRequest).log.info('inside the handler');
      res.send('done');
    });
    server = http.createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const settle = () => new Promise((r) => setTimeout(r, 50));

  it("stamps the request's id on the handler's lines and on one access line without the query string", async () => {
    lines.length = 0;
    const res = await fetch(`${url}/work?code=secret-oidc-code&state=s`, { headers: { 'x-request-id': 'req-abc.1' } });
    expect(res.headers.get('x-request-id')).to.equal('req-abc.1');
    await settle();
    expect(lines.map((l) => [l.reqId, l.msg])).to.deep.equal([
      ['req-abc.1', 'inside the handler'],
      ['req-abc.1', 'request completed'],
    ]);
    expect(lines[1]).to.include({ method: 'GET', path: '/work', statusCode: 200, level: 30 });
    expect(lines[1].responseTime).to.be.a('number');
    expect(JSON.stringify(lines)).not.to.contain('secret-oidc-code');
  });

  it('makes its own id for a missing or malformed one, logs a 5xx as an error, and stays quiet for probes', async () => {
    lines.length = 0;
    const res = await fetch(`${url}/boom`, { headers: { 'x-request-id': 'bad id with spaces' } });
    const id = res.headers.get('x-request-id')!;
    expect(id).to.match(/^[0-9a-f-]{36}$/);
    await fetch(`${url}/healthz`);
    await settle();
    expect(lines.map((l) => [l.reqId, l.msg, l.level, l.statusCode])).to.deep.equal([[id, 'request failed', 50, 503]]);
  });
});
