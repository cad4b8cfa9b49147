import { expect } from 'chai';
import {
  buildDeployment,
  buildHomeClaim,
  buildIngress,
  buildNetworkPolicy,
  buildService,
  buildSessionChildren,
  ANNOTATION_USER_ID,
  homeClaimConflict,
  homeClaimName,
  homeClaimOf,
  labelValue,
  needsService,
  parseSessionPorts,
  PORTS_ANNOTATION,
  sessionUrl,
} from './session-manifests';
import type { SessionManifest, SessionWorkloadConfig } from './session.crd';
import { normalizeTemplate } from '../templates/template-normalize';
import type { TemplateManifest } from '../templates/template.crd';

const config: SessionWorkloadConfig = { ingress: { mode: 'none' }, home: { size: '10Gi' } };

function template(spec: Record<string, unknown> = {}): TemplateManifest {
  const r = normalizeTemplate({
    apiVersion: 'stream.space/v1alpha1',
    kind: 'Template',
    metadata: { name: 'firefox' },
    spec: {
      displayName: 'Firefox',
      baseImage: 'lscr.io/linuxserver/firefox:latest',
      defaultResources: { memory: '2Gi', cpu: '1000m' },
      ports: [{ name: 'vnc', containerPort: 3000, protocol: 'TCP' }],
      env: [{ name: 'PUID', value: '1000' }],
      volumeMounts: [{ name: 'user-home', mountPath: '/config' }],
      kasmvnc: { enabled: true, port: 3000 },
      ...spec,
    },
  });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.template;
}

function session(name = 'alice-firefox-x1y2z', spec: Partial<SessionManifest['spec']> = {}): SessionManifest {
  return {
    apiVersion: 'stream.streamspace.io/v1alpha1',
    kind: 'Session',
    metadata: { name, namespace: 'streamspace', uid: `uid-${name}` },
    spec: { user: 'alice', template: 'firefox', state: 'running', ...spec },
  };
}

describe('session manifest builders (pure)', () => {
  it('builds a Deployment named after the session, owned by it, with labels, resources and one replica', () => {
    const d = buildDeployment(session(), template(), config);
    expect(d.metadata!.name).to.equal('alice-firefox-x1y2z');
    expect(d.metadata!.namespace).to.equal('streamspace');
    expect(d.metadata!.ownerReferences).to.deep.equal([
      {
        apiVersion: 'stream.streamspace.io/v1alpha1',
        kind: 'Session',
        name: 'alice-firefox-x1y2z',
        uid: 'uid-alice-firefox-x1y2z',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(d.metadata!.labels).to.deep.include({
      'app.kubernetes.io/name': 'firefox',
      'app.kubernetes.io/instance': 'alice-firefox-x1y2z',
      'app.kubernetes.io/managed-by': 'streamspace',
      'stream.streamspace.io/user': 'alice',
      'stream.streamspace.io/template': 'firefox',
      'stream.streamspace.io/session': 'alice-firefox-x1y2z',
    });
    expect(d.spec!.replicas).to.equal(1);
    expect(d.spec!.selector.matchLabels).to.deep.equal({ 'stream.streamspace.io/session': 'alice-firefox-x1y2z' });
    expect(d.spec!.template.metadata!.labels).to.deep.include(d.spec!.selector.matchLabels!);
    const c = d.spec!.template.spec!.containers[0];
    expect(c.image).to.equal('lscr.io/linuxserver/firefox:latest');
    expect(c.ports).to.deep.equal([{ name: 'vnc', containerPort: 3000, protocol: 'TCP' }]);
    expect(c.resources).to.deep.equal({ requests: { memory: '2Gi', cpu: '1000m' }, limits: { memory: '2Gi' } });
    expect(c.env).to.deep.include({ name: 'PUID', value: '1000' });
    expect(c.env).to.deep.include({ name: 'STREAMSPACE_SESSION', value: 'alice-firefox-x1y2z' });
    // no persistent home: the template's user-home mount is an emptyDir
    expect(d.spec!.template.spec!.volumes).to.deep.equal([{ name: 'user-home', emptyDir: {} }]);
  });

  it('scales to zero when hibernated and applies session resource overrides per resource', () => {
    const d = buildDeployment(session('s', { state: 'hibernated', resources: { requests: { cpu: '250m' }, limits: { cpu: '1' } } }), template(), config);
    expect(d.spec!.replicas).to.equal(0);
    expect(d.spec!.template.spec!.containers[0].resources).to.deep.equal({
      requests: { memory: '2Gi', cpu: '250m' },
      limits: { memory: '2Gi', cpu: '1' },
    });
  });

  it('mounts the per-user home PVC when persistentHome, and builds that PVC without an owner', () => {
    const s = session('s', { persistentHome: true });
    const d = buildDeployment(s, template(), config);
    expect(d.spec!.template.spec!.volumes).to.deep.equal([{ name: 'user-home', persistentVolumeClaim: { claimName: 'home-alice' } }]);
    const pvc = buildHomeClaim(s, { ...config, home: { size: '5Gi', storageClass: 'fast' } })!;
    expect(pvc.metadata!.name).to.equal('home-alice');
    expect(pvc.metadata!.ownerReferences).to.equal(undefined);
    expect(pvc.spec).to.deep.equal({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '5Gi' } } });
    expect(buildHomeClaim(session(), config)).to.equal(null);
  });

  it('exposes the web app port for webapps and both ports for hybrids', () => {
    const web = template({ kasmvnc: { enabled: false, port: 8080 }, ports: [{ name: 'http', containerPort: 8080 }] });
    expect(buildService(session(), web).spec!.ports).to.deep.equal([{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }]);
    const hybrid = { ...template(), spec: { ...template().spec, appType: 'hybrid' as const, webapp: { port: 8080, protocol: 'http' as const } } };
    const svc = buildService(session(), hybrid);
    expect(svc.spec!.ports!.map((p) => p.port)).to.deep.equal([8080, 3000]);
    expect(svc.spec!.selector).to.deep.equal({ 'stream.streamspace.io/session': 'alice-firefox-x1y2z' });
    expect(svc.metadata!.ownerReferences![0].uid).to.equal('uid-alice-firefox-x1y2z');
  });

  it('behind the gateway alone a session has no Service; its Deployment names the ports the gateway connects to', () => {
    const hybrid = { ...template(), spec: { ...template().spec, appType: 'hybrid' as const, webapp: { port: 8080, protocol: 'http' as const } } };
    const gateway: SessionWorkloadConfig = { ...config, throughGateway: true };
    const children = buildSessionChildren(session(), hybrid, gateway);
    expect(children.service).to.equal(null);
    expect(needsService(gateway)).to.equal(false);
    const annotation = children.deployment.metadata!.annotations![PORTS_ANNOTATION];
    expect(JSON.parse(annotation)).to.deep.equal({ app: 8080, vnc: 3000 });
    expect(parseSessionPorts(annotation)).to.deep.equal({ app: 8080, vnc: 3000 });
    // On the Deployment, not in its pod template: writing it restarts no running session.
    expect(children.deployment.spec!.template.metadata!.annotations?.[PORTS_ANNOTATION]).to.equal(undefined);
    expect(JSON.parse(buildSessionChildren(session(), template(), gateway).deployment.metadata!.annotations![PORTS_ANNOTATION])).to.deep.equal({ app: 3000 });
    // An Ingress (routing around the gateway) needs a Service; so does a session when the gateway is off.
    expect(buildSessionChildren(session(), hybrid, { ...gateway, ingress: { mode: 'host', domain: 'apps.example.com' } }).service!.spec!.ports!.map((p) => p.port)).to.deep.equal([8080, 3000]);
    expect(buildSessionChildren(session(), hybrid, config).service!.metadata!.name).to.equal('alice-firefox-x1y2z');
    // What the gateway reads back: only what this version writes.
    for (const bad of [undefined, '', 'nope', '{}', '{"app":0}', '{"app":70000}', '{"app":"8080"}', '{"app":8080,"vnc":1.5}']) expect(parseSessionPorts(bad), String(bad)).to.equal(null);
  });

  it('two sessions of the same app for one user get distinct child names and selectors', () => {
    const a = buildSessionChildren(session('alice-firefox-aaaaa'), template(), config);
    const b = buildSessionChildren(session('alice-firefox-bbbbb'), template(), config);
    expect(a.deployment.metadata!.name).to.not.equal(b.deployment.metadata!.name);
    expect(a.service!.metadata!.name).to.not.equal(b.service!.metadata!.name);
    expect(a.deployment.spec!.selector).to.not.deep.equal(b.deployment.spec!.selector);
  });

  it('builds no Ingress by default, host or path routing with TLS when configured', () => {
    expect(buildIngress(session(), template(), config)).to.equal(null);
    const host = buildIngress(session(), template(), { ...config, ingress: { mode: 'host', domain: 'apps.example.com', tlsSecret: 'wild', className: 'nginx' } })!;
    expect(host.spec!.ingressClassName).to.equal('nginx');
    expect(host.spec!.tls).to.deep.equal([{ hosts: ['alice-firefox-x1y2z.apps.example.com'], secretName: 'wild' }]);
    expect(host.spec!.rules![0].host).to.equal('alice-firefox-x1y2z.apps.example.com');
    expect(host.spec!.rules![0].http!.paths[0].backend.service).to.deep.equal({ name: 'alice-firefox-x1y2z', port: { name: 'vnc' } });
    const path = buildIngress(session(), template(), { ...config, ingress: { mode: 'path', host: 'ss.example.com' } })!;
    expect(path.spec!.rules![0].http!.paths[0].path).to.equal('/sessions/alice-firefox-x1y2z/');
    expect(path.spec!.tls).to.equal(undefined);
    // A port (an ingress controller on a non-standard port) stays out of Ingress rules, which take host names only.
    const ported = buildIngress(session(), template(), { ...config, ingress: { mode: 'path', host: 'ss.example.com:8443' } })!;
    expect(ported.spec!.rules![0].host).to.equal('ss.example.com');
    const portedHost = buildIngress(session(), template(), { ...config, ingress: { mode: 'host', domain: 'apps.example.com:8443' } })!;
    expect(portedHost.spec!.rules![0].host).to.equal('alice-firefox-x1y2z.apps.example.com');
  });

  it('computes the URL from the ingress mode', () => {
    expect(sessionUrl(session(), template(), config)).to.equal('http://alice-firefox-x1y2z.streamspace.svc:3000/');
    expect(sessionUrl(session(), template(), { ...config, ingress: { mode: 'host', domain: 'a.io', tlsSecret: 't' } })).to.equal('https://alice-firefox-x1y2z.a.io/');
    expect(sessionUrl(session(), template(), { ...config, ingress: { mode: 'path', host: 'ss.io' } })).to.equal('http://ss.io/sessions/alice-firefox-x1y2z/');
    expect(sessionUrl(session(), template(), { ...config, ingress: { mode: 'path', host: 'ss.io:8080' } })).to.equal('http://ss.io:8080/sessions/alice-firefox-x1y2z/');
    expect(sessionUrl(session(), template(), { ...config, ingress: { mode: 'host', domain: 'a.io:8443', tlsSecret: 't' } })).to.equal('https://alice-firefox-x1y2z.a.io:8443/');
  });

  it('turns any user name into valid label values and PVC names', () => {
    expect(labelValue('alice')).to.equal('alice');
    const odd = labelValue('Alice Smith@example.com');
    expect(odd).to.match(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    expect(odd).to.not.equal(labelValue('Alice_Smith@example.com'));
    expect(labelValue('x'.repeat(100)).length).to.be.at.most(63);
    expect(homeClaimName('alice')).to.equal('home-alice');
    expect(homeClaimName('Alice@Example.com')).to.match(/^home-alice-example-com-[0-9a-f]{8}$/);
    expect(homeClaimName('alice@example.com')).to.not.equal(homeClaimName('alice.example.com'));
  });

  it("names home claims from the user's immutable id, with an owner label; a crafted colliding username gets its own claim", () => {
    // Legacy names collide: "a.b" maps to home-a-b-<hash>, which a user literally named "a-b-<hash>" also maps to.
    const crafted = homeClaimName('a.b').slice('home-'.length);
    expect(homeClaimName(crafted)).to.equal(homeClaimName('a.b'));
    const victim = session('v', { persistentHome: true, user: 'a.b' });
    victim.metadata.annotations = { [ANNOTATION_USER_ID]: '11111111-1111-4111-8111-111111111111' };
    const attacker = session('x', { persistentHome: true, user: crafted });
    attacker.metadata.annotations = { [ANNOTATION_USER_ID]: '22222222-2222-4222-8222-222222222222' };
    expect(homeClaimOf(victim)).to.deep.equal({ name: 'home-11111111-1111-4111-8111-111111111111', owner: '11111111-1111-4111-8111-111111111111' });
    expect(homeClaimOf(attacker).name).to.not.equal(homeClaimOf(victim).name);
    const claim = buildHomeClaim(victim, config)!;
    expect(claim.metadata!.labels!['stream.streamspace.io/home-owner']).to.equal('11111111-1111-4111-8111-111111111111');
    expect(buildDeployment(victim, template(), config).spec!.template.spec!.volumes![0].persistentVolumeClaim!.claimName).to.equal(claim.metadata!.name);
    // The reconciler's check: its own claim is fine, anyone else's is refused, also under the legacy names.
    expect(homeClaimConflict(victim, claim)).to.equal(null);
    expect(homeClaimConflict(attacker, claim)).to.match(/belongs to another user/);
    const legacyVictim = session('lv', { persistentHome: true, user: 'a.b' });
    const legacyAttacker = session('la', { persistentHome: true, user: crafted });
    const legacyClaim = buildHomeClaim(legacyVictim, config)!;
    expect(homeClaimOf(legacyAttacker).name).to.equal(legacyClaim.metadata!.name); // same name...
    expect(homeClaimConflict(legacyAttacker, legacyClaim)).to.match(/belongs to another user/); // ...refused
    expect(homeClaimConflict(legacyVictim, legacyClaim)).to.equal(null);
    // A claim created before owner labels existed carries only the user label: the legacy owner still matches.
    expect(homeClaimConflict(legacyVictim, { metadata: { labels: { 'stream.streamspace.io/user': 'a.b' } } })).to.equal(null);
    expect(homeClaimConflict(victim, { metadata: { labels: {} } })).to.match(/no known user/);
  });

  it('builds a NetworkPolicy that admits only the gateway on the app ports, when configured', () => {
    expect(buildNetworkPolicy(session(), template(), config)).to.equal(null);
    const p = buildNetworkPolicy(session(), template(), { ...config, networkPolicy: { gatewayNamespace: 'streamspace' } })!;
    expect(p.spec!.podSelector!.matchLabels).to.deep.equal({ 'stream.streamspace.io/session': 'alice-firefox-x1y2z' });
    expect(p.spec!.ingress![0]._from).to.deep.equal([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'streamspace' } }, podSelector: { matchLabels: { 'stream.streamspace.io/gateway': 'true' } } },
    ]);
    expect(p.spec!.ingress![0].ports).to.deep.equal([{ protocol: 'TCP', port: 3000 }]);
  });

  it('refuses to build children for a Session without a uid (never orphaned objects)', () => {
    const s = session();
    delete s.metadata.uid;
    expect(() => buildDeployment(s, template(), config)).to.throw(/no uid/);
  });

  describe('pod security', () => {
    it('runs every session restricted by default: non-root uid 1000, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
      const pod = buildDeployment(session(), template(), config).spec!.template.spec!;
      expect(pod.securityContext).to.deep.equal({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.containers[0]!.securityContext).to.deep.equal({ runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(pod.hostNetwork ?? false).to.equal(false);
      expect(pod.automountServiceAccountToken).to.equal(false);
    });

    it('applies a template\'s exceptions: its own non-root ids, or root with added baseline capabilities, never privilege escalation', () => {
      const ids = buildDeployment(session(), template({ security: { runAsUser: 2000, runAsGroup: 3000 } }), config).spec!.template.spec!;
      expect(ids.securityContext).to.deep.include({ runAsNonRoot: true, runAsUser: 2000, runAsGroup: 3000, fsGroup: 3000 });
      const root = buildDeployment(session(), template({ security: { runAsRoot: true, addCapabilities: ['chown', 'CAP_SETUID', 'SETGID'] } }), config).spec!.template.spec!;
      expect(root.securityContext).to.deep.equal({ seccompProfile: { type: 'RuntimeDefault' } });
      expect(root.containers[0]!.securityContext).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['CHOWN', 'SETUID', 'SETGID'] } });
    });

    it('passes envFrom through', () => {
      const c = buildDeployment(session(), template({ envFrom: [{ prefix: 'APP_', configMapRef: { name: 'settings' } }] }), config).spec!.template.spec!.containers[0]!;
      expect(c.envFrom).to.deep.equal([{ prefix: 'APP_', configMapRef: { name: 'settings' } }]);
    });
  });
});

describe('session NetworkPolicy without internet egress', () => {
  const session: SessionManifest = {
    apiVersion: 'stream.streamspace.io/v1alpha1',
    kind: 'Session',
    metadata: { name: 's1', namespace: 'ns', uid: 'u1' },
    spec: { user: 'alice', template: 'firefox' },
  };

  it('is made for egress alone when there is no gateway policy, and allows only the cluster and DNS', () => {
    expect(buildNetworkPolicy(session, template(), config)).to.equal(null);
    const p = buildNetworkPolicy(session, template(), { ...config, internetEgress: false })!;
    expect(p.spec!.policyTypes).to.deep.equal(['Egress']);
    expect(p.spec!.ingress).to.equal(undefined);
    expect(p.spec!.egress![0].to).to.deep.include({ namespaceSelector: {} });
    expect(p.spec!.egress![0].to!.map((t) => t.ipBlock?.cidr).filter(Boolean)).to.deep.equal(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']);
    expect(p.spec!.egress![1].ports).to.deep.equal([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
  });

  it('joins the gateway rule when both apply', () => {
    const p = buildNetworkPolicy(session, template(), { ...config, internetEgress: false, networkPolicy: { gatewayNamespace: 'gw' } })!;
    expect(p.spec!.policyTypes).to.deep.equal(['Ingress', 'Egress']);
    expect(p.spec!.ingress).to.have.length(1);
  });
});
