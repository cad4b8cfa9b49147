import { expect } from 'chai';
import { loadConfig } from '../../config/config';
import { applySessionLimits, sessionDuration, type SessionLimits } from '../sessions/session-policies';
import { liveConnectionsConfig, workloadFrom } from './settings-effects';
import { crossCheck, formatDuration, SETTINGS, settingDefinition } from './settings.registry';

const config = loadConfig({ STREAMSPACE_HEARTBEAT_TIMEOUT: '1m' } as NodeJS.ProcessEnv, '/tmp');
const parse = (key: string, value: unknown) => settingDefinition(key)!.parse(value);
const defaults = () => new Map(SETTINGS.map((d) => [d.key, d.defaultFrom(config)]));

describe('configuration: the settings registry', () => {
  it('every setting has a group, a rule, an environment variable, and a default its own rule accepts', () => {
    for (const def of SETTINGS) {
      expect(def.group, def.key).to.be.a('string');
      expect(def.envVariable, def.key).to.match(/^STREAMSPACE_/);
      expect(def.parse(def.defaultFrom(config)), def.key).to.deep.equal(def.defaultFrom(config));
    }
  });

  it('parses each kind and refuses what breaks the rule', () => {
    expect(parse('routing.mode', 'path')).to.equal('path');
    expect(parse('routing.mode', 'cookie')).to.equal(null);
    expect(parse('routing.appsDomain', 'Apps.Example.com:8443')).to.equal('apps.example.com:8443');
    expect(parse('routing.appsDomain', '10.0.0.1')).to.equal(null);
    expect(parse('routing.ingressClass', 'nginx.internal')).to.equal('nginx.internal');
    expect(parse('routing.ingressClass', 'Bad_Class')).to.equal(null);
    expect(parse('routing.tlsSecret', '')).to.equal('');
    expect(parse('storage.homeSize', '20Gi')).to.equal('20Gi');
    for (const bad of ['0', '-1Gi', '20GB', 20]) expect(parse('storage.homeSize', bad), String(bad)).to.equal(null);
    expect(parse('resources.maxMemory', '1Gi')).to.equal(2 ** 30);
    expect(parse('sessions.idleTimeout', '45m')).to.equal('45m');
    expect(parse('sessions.idleTimeout', '30s')).to.equal(null); // under 1m
    expect(parse('sessions.idleTimeout', '')).to.equal(null);
    expect(parse('sessions.maxDuration', '')).to.equal('');
    expect(parse('features.sharing', 'false')).to.equal(false);
    expect(parse('features.sharing', 'no')).to.equal(null);
    expect(formatDuration(90_000)).to.equal('90s');
    expect(formatDuration(1_800_000)).to.equal('30m');
  });

  it('rules across settings name the field to fix', () => {
    const values = defaults();
    expect(crossCheck(values, config)).to.deep.equal([]);
    values.set('routing.mode', 'host');
    values.set('sessions.heartbeatInterval', '1m');
    values.set('resources.defaultCpu', 4);
    values.set('resources.maxCpu', 2);
    expect(crossCheck(values, config).map((p) => p.key)).to.deep.equal(['routing.appsDomain', 'sessions.heartbeatInterval', 'resources.defaultCpu']);
  });

  it('maps the settings onto the session workload and the connections configuration', () => {
    const values = defaults();
    values.set('routing.mode', 'host');
    values.set('routing.appsDomain', 'apps.example.com');
    values.set('routing.ingressClass', 'nginx');
    values.set('storage.storageClass', 'fast');
    values.set('features.internetEgress', false);
    const w = workloadFrom({ ingress: { mode: 'none' }, home: { size: '1Gi' }, nodeSelector: { a: 'b' } }, <T>(k: string) => values.get(k) as T);
    expect(w).to.deep.equal({
      ingress: { mode: 'host', domain: 'apps.example.com', host: undefined, className: 'nginx', tlsSecret: undefined },
      home: { size: '10Gi', storageClass: 'fast' },
      nodeSelector: { a: 'b' },
      internetEgress: false,
    });
    let idle = '30m';
    const live = liveConnectionsConfig(config.connections, { value: <T>(k: string) => (k === 'sessions.idleTimeout' ? idle : '10s') as T, onChanged: () => undefined });
    expect(live.defaultIdleTimeoutMs).to.equal(30 * 60_000);
    idle = '2h';
    expect(live.defaultIdleTimeoutMs).to.equal(2 * 3_600_000);
    expect(live.heartbeatIntervalMs).to.equal(10_000);
  });

  it('session rules: defaults only when nothing is set, maximums refuse, the longest life caps', () => {
    const limits: SessionLimits = { defaultCpu: 0.5, defaultMemory: 2 ** 30, maxCpu: 2, maxMemory: 0, maxSessionDuration: '8h' };
    expect(applySessionLimits({}, limits)).to.deep.equal({ requests: { cpu: '500m', memory: String(2 ** 30) } });
    expect(applySessionLimits({ limits: { cpu: '1' } }, limits)).to.deep.equal({ limits: { cpu: '1' } });
    expect(() => applySessionLimits({ limits: { cpu: '2500m' } }, limits)).to.throw(/per-session maximum: cpu limits of 2.5 CPU cores > 2 CPU cores/);
    expect(applySessionLimits({ requests: { memory: '64Gi' } }, limits)).to.deep.equal({ requests: { memory: '64Gi' } }); // no memory maximum
    expect(sessionDuration(undefined, limits)).to.equal('8h');
    expect(sessionDuration('2h', limits)).to.equal('2h');
    expect(() => sessionDuration('9h', limits)).to.throw(/at most 8h/);
    expect(sessionDuration(undefined, { ...limits, maxSessionDuration: '' })).to.equal(undefined);
  });
});
