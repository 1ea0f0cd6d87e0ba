// A real OpenID provider for the tests (the oidc-provider package), on 127.0.0.1.
//
// node server.mjs <config.json>: the config holds the clients, the signing keys (a private JWKS)
// and the accounts. It listens on a free port and prints "listening <port>" once it serves.
// Its own login page is /interaction/<uid> (an e-mail address and a password, or "Cancel");
// consent is given without asking (the interaction page grants it at once). POST /test/keys
// with a private JWKS starts signing with those keys (rotation): the provider is rebuilt with
// the same issuer.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = new Map(config.accounts.map((account) => [account.sub, account]));

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function build(issuer, jwks) {
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks,
    pkce: { required: () => true },
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
      tid: ['tid'],
    },
    scopes: ['openid', 'email', 'profile'],
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['test-provider-cookie-key'] },
    ttl: { IdToken: 300, AccessToken: 300, AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600 },
    async findAccount(ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          const { password, login, ...claims } = account;
          return claims;
        },
      };
    },
  });
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  return provider;
}

function loginPage(uid, message) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body><main><h1>Test identity provider</h1>${message ? `<p role="alert">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="email">Work e-mail</label> <input id="email" name="email" type="email" autocomplete="off">
<label for="password">Provider password</label> <input id="password" name="password" type="password">
<button type="submit">Continue</button></form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button type="submit">Cancel</button></form>
</main></body></html>`;
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

let provider;
const server = createServer(async (req, res) => {
  try {
    const path = new URL(req.url, 'http://127.0.0.1').pathname;
    if (req.method === 'POST' && path === '/test/keys') {
      provider = build(provider.issuer, JSON.parse(await body(req)));
      res.writeHead(204).end();
      return;
    }
    const match = path.match(/^\/interaction\/([^/]+)(?:\/(login|abort))?$/);
    if (!match) {
      provider.callback()(req, res);
      return;
    }
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== match[1]) throw new Error('interaction mismatch');
    if (req.method === 'GET' && !match[2] && details.prompt.name === 'consent') {
      // Consent is given without asking: these are the partnership's own staff accounts.
      const { prompt: { details: missing }, params, session: { accountId } } = details;
      const grant = details.grantId ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId, clientId: params.client_id });
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } },
        { mergeWithLastSubmission: true });
      return;
    }
    if (req.method === 'GET' && !match[2]) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(details.uid));
      return;
    }
    if (req.method === 'POST' && match[2] === 'abort') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'The person cancelled',
      }, { mergeWithLastSubmission: false });
      return;
    }
    if (req.method === 'POST' && match[2] === 'login') {
      const form = new URLSearchParams(await body(req));
      const account = config.accounts.find((a) => a.login === form.get('email'));
      if (!account || account.password !== form.get('password')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(loginPage(details.uid, 'Wrong e-mail or password'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: account.sub } },
        { mergeWithLastSubmission: false });
      return;
    }
    res.writeHead(405).end();
  } catch (error) {
    console.error(error);
    res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error.message || error));
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  provider = build(`http://127.0.0.1:${port}`, config.jwks);
  console.log(`listening ${port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
