import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** People the test identity provider knows: login name -> claims. Change `groups` between sign-ins. */
export type IdpAccounts = Record<string, { email: string; name: string; groups: string[] }>;

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: IdpAccounts;
  /** Registers the relying party's callback and starts answering (call once the app's URL is known). */
  start(redirectUri: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real OpenID Provider (oidc-provider, certified) on a loopback port, with its development login and
 * consent pages: any password signs in as the typed login name. The port is reserved first so the
 * issuer URL can go into the app's configuration before the client (with the app's callback) exists.
 */
export async function reserveTestIdp(accounts: IdpAccounts): Promise<TestIdp> {
  let handler: http.RequestListener | undefined;
  const server = http.createServer((req, res) => {
    if (handler) return handler(req, res);
    res.statusCode = 503;
    res.end('not started');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'streamspace-test';
  const clientSecret = 'streamspace-test-secret-0123456789';
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    async start(redirectUri: string) {
      // oidc-provider is an ES module; Node 20.19+ loads it with require().
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { default: Provider } = require('oidc-provider') as { default: new (issuer: string, config: object) => { callback(): http.RequestListener } };
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ],
        claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'], groups: ['groups'] },
        findAccount: (_ctx: unknown, id: string) => {
          const account = accounts[id];
          if (!account) return undefined;
          return { accountId: id, claims: () => ({ sub: id, preferred_username: id, email: account.email, name: account.name, groups: [...account.groups] }) };
        },
        pkce: { required: () => false },
        cookies: { keys: ['streamspace-test-idp-cookie-key'] },
        features: { devInteractions: { enabled: true } },
      });
      handler = provider.callback();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
