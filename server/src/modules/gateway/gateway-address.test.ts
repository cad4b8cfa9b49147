import { expect } from 'chai';
import { GatewayActivity } from './gateway-activity';
import { gatewayCookie, LABEL_PATTERN, newLabel, route, safeNext, ticketUrl, upstreamCookies, vncPath, type AppsLocation } from './gateway-address';
import { decide } from './gateway.service';

const host: AppsLocation = { mode: 'host', domain: 'apps.localhost:8081', scheme: 'http' };
const path: AppsLocation = { mode: 'path', domain: 'apps.example.com', scheme: 'https' };

describe('gateway addresses (unit)', () => {
  it('labels are 26 base32 characters (130 random bits), all different', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const l = newLabel();
      expect(l).to.match(LABEL_PATTERN);
      seen.add(l);
    }
    expect(seen.size).to.equal(2000);
  });

  it('host mode routes <label>.<apps domain> only, keeping the path', () => {
    const l = newLabel();
    expect(route(host, `${l}.apps.localhost:8081`, '/vnc?x=1')).to.deep.equal({ label: l, upstreamPath: '/vnc?x=1', cookiePath: '/' });
    expect(route(host, `${l.toUpperCase()}.APPS.localhost:8081`, '/')!.label).to.equal(l);
    expect(route(host, `${l}.apps.localhost:9999`, '/')).to.equal(null); // other port
    expect(route(host, 'apps.localhost:8081', '/')).to.equal(null); // the apps domain itself
    expect(route(host, `x.${l}.apps.localhost:8081`, '/')).to.equal(null); // deeper names
    expect(route(host, 'alice-firefox-1a2b3.apps.localhost:8081', '/')).to.equal(null); // old-style session names
    expect(route(host, `${l}.apps.localhost:8081`, 'http://evil.example/')).to.equal(null); // absolute-form target
    expect(route(host, undefined, '/')).to.equal(null);
  });

  it('path mode routes /s/<label>/ on the apps host and strips the prefix', () => {
    const l = newLabel();
    expect(route(path, 'apps.example.com', `/s/${l}/app/x?y=1`)).to.deep.equal({ label: l, upstreamPath: '/app/x?y=1', cookiePath: `/s/${l}/` });
    expect(route(path, 'apps.example.com', `/s/${l}?y=1`)).to.deep.equal({ label: l, upstreamPath: '/?y=1', cookiePath: `/s/${l}/` });
    expect(route(path, 'streamspace.example.com', `/s/${l}/`)).to.equal(null);
    expect(route(path, 'apps.example.com', '/s/short/')).to.equal(null);
  });

  it('ticket URLs point at the redeem path of the session origin; next is always a local path', () => {
    const l = newLabel();
    expect(ticketUrl(host, l, 'T', '/app')).to.equal(`http://${l}.apps.localhost:8081/.streamspace/redeem?ticket=T&next=%2Fapp`);
    expect(ticketUrl(path, l, 'T', '/')).to.equal(`https://apps.example.com/s/${l}/.streamspace/redeem?ticket=T&next=%2F`);
    for (const bad of ['//evil.example', 'https://evil.example', '/\\evil', 'x', '', null, '/a\r\nSet-Cookie: x=1']) expect(safeNext(bad)).to.equal('/');
    expect(safeNext('/a/b?c=d')).to.equal('/a/b?c=d');
  });

  it('the platform cookies and the gateway cookie never go upstream; the app keeps its own', () => {
    expect(upstreamCookies('streamspace_refresh=r; app=1; streamspace_gateway=g; connect.sid=s; other=2')).to.equal('app=1; other=2');
    expect(upstreamCookies('streamspace_gateway=g')).to.equal(undefined);
    expect(gatewayCookie('a=1; streamspace_gateway=abc; b=2')).to.equal('abc');
    expect(gatewayCookie('a=1')).to.equal(undefined);
  });

  it('access decisions: cookie, then live connection, then owner/admin/access list and not disabled, then running', () => {
    const row = {
      grant_id: 'g',
      cookie_hash: 'h',
      label: 'l',
      session_id: 's',
      session_name: 'n',
      namespace: 'ns',
      user_id: 'u',
      connection_id: 'c',
      connection_open: true,
      disabled: false,
      role: 'user',
      owner_id: 'u',
      state: 'running',
      phase: 'Running',
      share_role: null as string | null,
      app_type: 'desktop',
    };
    const status = (r: Partial<typeof row> | undefined, label = 'l') => {
      const d = decide(r ? { ...row, ...r } : undefined, label);
      return d.ok ? 200 : d.refusal.status;
    };
    expect(status({})).to.equal(200);
    expect(status(undefined)).to.equal(401);
    expect(status({}, 'other')).to.equal(401);
    expect(status({ connection_open: false, state: 'hibernated' })).to.equal(401);
    expect(status({ owner_id: 'someone-else' })).to.equal(403);
    expect(status({ owner_id: 'someone-else', role: 'admin' })).to.equal(200);
    expect(status({ disabled: true, role: 'admin' })).to.equal(403);
    expect(status({ state: 'hibernated', phase: 'Hibernated' })).to.equal(404);
    // The session's access list: a viewer and a collaborator are in; a viewer's grant is view-only.
    const grant = (r: Partial<typeof row>) => {
      const d = decide({ ...row, ...r }, 'l');
      return d.ok ? d.grant.viewOnly : d.refusal.status;
    };
    expect(grant({ owner_id: 'someone-else', share_role: 'VIEWER' })).to.equal(true);
    expect(grant({ owner_id: 'someone-else', share_role: 'COLLABORATOR' })).to.equal(false);
    expect(grant({ owner_id: 'someone-else', share_role: 'VIEWER', role: 'admin' })).to.equal(false);
    expect(grant({})).to.equal(false);
    expect(grant({ owner_id: 'someone-else', share_role: 'VIEWER', disabled: true })).to.equal(403);
  });

  it('activity: one heartbeat per connection per interval, on a fixed clock', () => {
    let now = 1_000_000;
    const beats: string[] = [];
    const activity = new GatewayActivity(async (id) => (beats.push(id), true), 5000, () => now);
    for (let i = 0; i < 100; i++) activity.touch({ connectionId: 'a', userId: 'u' });
    activity.touch({ connectionId: 'b', userId: 'u' });
    now += 4999;
    activity.touch({ connectionId: 'a', userId: 'u' });
    now += 1;
    activity.touch({ connectionId: 'a', userId: 'u' });
    expect(beats).to.deep.equal(['a', 'b', 'a']);
  });
});

describe('gateway: the VNC path of a hybrid session', () => {
  it('maps /.streamspace/vnc and what is under it to the desktop, without the prefix', () => {
    expect(vncPath('/.streamspace/vnc/websockify')).to.equal('/websockify');
    expect(vncPath('/.streamspace/vnc/websockify?token=1')).to.equal('/websockify?token=1');
    expect(vncPath('/.streamspace/vnc')).to.equal('/');
    expect(vncPath('/.streamspace/vnc?x=1')).to.equal('/?x=1');
  });

  it('leaves every other path to the app', () => {
    for (const path of ['/', '/websockify', '/.streamspace/vncx/websockify', '/app/.streamspace/vnc/websockify', '/.streamspace/redeem?ticket=x']) expect(vncPath(path), path).to.equal(null);
  });
});
