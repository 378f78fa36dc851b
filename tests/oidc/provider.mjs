// A real OpenID Connect provider (the npm package oidc-provider) for tests/test_oidc.py.
//
//   PORT=... CLIENT_ID=... CLIENT_SECRET=... REDIRECT_URI=... node provider.mjs
//
// Listens on 127.0.0.1 only and prints "ready <issuer>" once it serves. Who signs in is
// set by the test (POST /__test/next with {"account", "verified", "fault"}): the
// interaction completes without a form. A fault makes the next ID token wrong the way
// a test needs, re-signed with the provider's own key: "audience" (issued to another
// client), "expired" (an hour old), "nonce" (the nonce of an earlier sign-in).
import http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const next = { account: 'nobody@example.org', verified: true, fault: null };
const nonces = [];

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await jose.exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  jwks: { keys: [signingKey] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  scopes: ['openid', 'email'],
  cookies: { keys: ['only-for-tests'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: id, email_verified: next.verified }),
  }),
  conformIdTokenClaims: false, // email in the ID token itself, as Entra ID and Okta put it
});

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    if (details.params.nonce) nonces.push(details.params.nonce);
    return provider.interactionFinished(req, res, { login: { accountId: next.account } });
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  grant.addOIDCScope('openid email');
  grant.addOIDCClaims(['email', 'email_verified']);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } },
    { mergeWithLastSubmission: true });
}

async function tampered(body) {
  const answer = JSON.parse(body);
  if (!answer.id_token) return body;
  const claims = jose.decodeJwt(answer.id_token);
  const now = Math.floor(Date.now() / 1000);
  if (next.fault === 'audience') claims.aud = 'another-client';
  if (next.fault === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  if (next.fault === 'nonce') claims.nonce = nonces.at(-2) ?? 'an-earlier-nonce';
  answer.id_token = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).sign(privateKey);
  return JSON.stringify(answer);
}

const callback = provider.callback();
http.createServer(async (req, res) => {
  try {
    if (req.url === '/__test/next' && req.method === 'POST') {
      let text = '';
      for await (const chunk of req) text += chunk;
      Object.assign(next, { verified: true, fault: null }, JSON.parse(text));
      res.writeHead(204).end();
      return;
    }
    if (req.url.startsWith('/interaction/')) {
      await interaction(req, res);
      return;
    }
    if (req.url.startsWith('/token') && next.fault) {
      const end = res.end.bind(res);
      res.end = (chunk, ...rest) => {
        tampered(String(chunk)).then((body) => {
          res.setHeader('content-length', Buffer.byteLength(body));
          end(body, ...rest);
        });
        return res;
      };
    }
    callback(req, res);
  } catch (error) {
    res.writeHead(500).end(String(error));
  }
}).listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
