// A real OpenID Connect provider for the sign-in by redirect test (tests/it/web.rs): panva's
// oidc-provider, OpenID Certified, with its development login and consent pages (any login name and
// password sign in). Run as `node idp.mjs` with
//   ADUAN_WEB_MODULES  the node_modules that deploy/tools.sh installed
//   IDP_KEY            a PEM private key (RSA) to sign ID tokens with, and IDP_KID its key id
//   IDP_CLAIMS         JSON: the claims every account gets besides `sub` and `preferred_username`
//                      (the role and agency claims), and IDP_CLIENT_SECRET the client's secret
// It listens on a free loopback port and prints its issuer as one line; it then reads the client's
// redirect URI as one line on stdin, registers the client `aduan-dashboard` with it, and prints
// `ready`. It stops when stdin closes.
import { createRequire } from 'node:module';
import { createPrivateKey } from 'node:crypto';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const require = createRequire(join(process.env.ADUAN_WEB_MODULES, 'x.js'));
const { default: Provider } = await import(require.resolve('oidc-provider'));

const jwk = { ...createPrivateKey(process.env.IDP_KEY).export({ format: 'jwk' }), kid: process.env.IDP_KID, alg: 'RS256', use: 'sig' };
const claims = JSON.parse(process.env.IDP_CLAIMS);

let handler = (_req, res) => { res.statusCode = 503; res.end('not ready'); };
const server = createServer((req, res) => handler(req, res));
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const issuer = `http://127.0.0.1:${server.address().port}`;
console.log(issuer);

const lines = createInterface({ input: process.stdin });
const redirect = await new Promise((ok) => lines.once('line', ok));
const provider = new Provider(issuer, {
  clients: [{
    client_id: 'aduan-dashboard',
    client_secret: process.env.IDP_CLIENT_SECRET,
    redirect_uris: [redirect.trim()],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: { keys: [jwk] },
  claims: { openid: ['sub'], profile: ['preferred_username', ...Object.keys(claims)] },
  // The profile claims go into the ID token itself (the dashboard reads no userinfo).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ['test-only-cookie-key'] },
  async findAccount(_ctx, id) {
    return { accountId: id, async claims() { return { sub: id, preferred_username: id, ...claims }; } };
  },
});
provider.on('server_error', (_ctx, err) => console.error(`idp: ${err.stack}`));
handler = provider.callback();
console.log('ready');
lines.on('close', () => { server.close(); process.exit(0); });
