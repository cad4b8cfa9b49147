import { expect } from 'chai';
import { secureContext } from './gateway.module';
import { cookieFor, ticketParam } from './gateway.proxy';
import { pickFor } from './gateway-upstream';

describe('gateway cookie and upgrade tickets', () => {
  it('is partitioned SameSite=None in a secure context and Lax on plain http', () => {
    expect(cookieFor('v', '/', true)).to.equal('streamspace_gateway=v; Path=/; HttpOnly; SameSite=None; Secure; Partitioned');
    expect(cookieFor('v', '/s/abc/', false)).to.equal('streamspace_gateway=v; Path=/s/abc/; HttpOnly; SameSite=Lax');
  });

  it('treats https and http on localhost names as secure contexts, nothing else', () => {
    expect(secureContext({ mode: 'host', domain: 'apps.example.com', scheme: 'https' })).to.equal(true);
    expect(secureContext({ mode: 'host', domain: 'apps.localhost:8081', scheme: 'http' })).to.equal(true);
    expect(secureContext({ mode: 'path', domain: 'localhost:8081', scheme: 'http' })).to.equal(true);
    expect(secureContext({ mode: 'host', domain: 'apps.example.com', scheme: 'http' })).to.equal(false);
    expect(secureContext({ mode: 'host', domain: 'apps.localhost.example.com', scheme: 'http' })).to.equal(false);
  });

  it('takes the ticket out of an upgrade path and keeps the rest of the query', () => {
    expect(ticketParam('/websockify?ticket=abc&token=x')).to.deep.equal({ value: 'abc', rest: '/websockify?token=x' });
    expect(ticketParam('/websockify?ticket=abc')).to.deep.equal({ value: 'abc', rest: '/websockify' });
    expect(ticketParam('/websockify?token=x')).to.equal(null);
    expect(ticketParam('/websockify')).to.equal(null);
  });
});

describe('gateway upstream choice', () => {
  it('keeps a connection on one pod and spreads connections over the ready pods', () => {
    const pods = ['10.0.0.3', '10.0.0.1', '10.0.0.2'];
    expect(pickFor('conn-a', pods)).to.equal(pickFor('conn-a', [...pods].reverse()));
    const chosen = new Set(Array.from({ length: 60 }, (_, i) => pickFor(`conn-${i}`, pods)));
    expect(chosen.size).to.equal(3);
  });
});
