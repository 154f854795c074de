// TokenIssuer.verifyNow (the WebSocket upgrade's synchronous check) must agree with
// TokenIssuer.verify (jose) on every token: the same user, or the same refusal.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { TokenIssuer } from '../../src/auth/tokens.ts';
import type { UserId } from '../../src/ids.ts';

const SECRET = 'unit-test-secret-unit-test-secret-0123456789';
const KEY = new TextEncoder().encode(SECRET);
const USER = 'u_AAAAAAAAAAAAAAAA' as UserId;
const b64 = (o: unknown): string => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

/** A token with any header and claims, HMAC-signed with `secret` (or the signature given). */
function forge(header: unknown, claims: unknown, secret = SECRET, signature?: string): string {
  const h = b64(header);
  const p = b64(claims);
  return `${h}.${p}.${signature ?? createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')}`;
}

const good = () => ({ sub: USER, iss: 'switchboard', aud: 'switchboard', iat: now(), exp: now() + 3600 });
const HS256 = { alg: 'HS256', typ: 'JWT' };

const CASES: [string, () => Promise<string> | string][] = [
  ['one we signed', () => new TokenIssuer(SECRET, '5d').sign(USER)],
  ['signed by jose with HS256', () => new SignJWT(good()).setProtectedHeader({ alg: 'HS256' }).sign(KEY)],
  ['an audience list that holds ours', () => forge(HS256, { ...good(), aud: ['other', 'switchboard'] })],
  ['no exp claim', () => forge(HS256, { sub: USER, iss: 'switchboard', aud: 'switchboard' })],
  ['expired', () => forge(HS256, { ...good(), exp: now() - 10 })],
  ['exp not a number', () => forge(HS256, { ...good(), exp: 'soon' })],
  ['nbf in the future', () => forge(HS256, { ...good(), nbf: now() + 600 })],
  ['nbf in the past', () => forge(HS256, { ...good(), nbf: now() - 600 })],
  ['iat not a number', () => forge(HS256, { ...good(), iat: 'then' })],
  ['another issuer', () => forge(HS256, { ...good(), iss: 'someone-else' })],
  ['no issuer', () => forge(HS256, { ...good(), iss: undefined })],
  ['another audience', () => forge(HS256, { ...good(), aud: 'other' })],
  ['an audience list without ours', () => forge(HS256, { ...good(), aud: ['a', 'b'] })],
  ['no subject', () => forge(HS256, { ...good(), sub: undefined })],
  ['a subject that is no user id', () => forge(HS256, { ...good(), sub: 'admin' })],
  ['tampered claims', () => {
    const [h, , s] = forge(HS256, good()).split('.');
    return `${h}.${b64({ ...good(), sub: 'u_BBBBBBBBBBBBBBBB' })}.${s}`;
  }],
  ['another secret', () => forge(HS256, good(), 'not-the-secret-not-the-secret-0123456789')],
  ['HS512', () => new SignJWT(good()).setProtectedHeader({ alg: 'HS512' }).sign(KEY)],
  ['alg none', () => `${b64({ alg: 'none' })}.${b64(good())}.`],
  ['no alg', () => forge({ typ: 'JWT' }, good())],
  ['a crit header', () => forge({ ...HS256, crit: ['exp'] }, good())],
  ['b64 false', () => forge({ ...HS256, b64: false, crit: ['b64'] }, good())],
  ['a header that is not JSON', () => `${b64('{nope')}.${b64(good())}.sig`],
  ['claims that are an array', () => forge(HS256, [1, 2])],
  ['claims that are not JSON', () => { const h = b64(HS256); const p = b64('nope'); return `${h}.${p}.${createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url')}`; }],
  ['two parts', () => 'abc.def'],
  ['garbage', () => 'not.a.token'],
  ['padding in the signature', () => `${forge(HS256, good())}=`],
  ['padding in the claims', () => { const [h, p, s] = forge(HS256, good()).split('.'); return `${h}.${p}=.${s}`; }],
  ['a signature with characters outside base64url', () => forge(HS256, good(), SECRET, 'a+b/c')],
  ['empty', () => ''],
];

describe('TokenIssuer.verifyNow', () => {
  const issuer = new TokenIssuer(SECRET, '5d');
  for (const [name, make] of CASES) {
    it(`agrees with jose on a token with ${name}`, async () => {
      const token = await make();
      const viaJose = await issuer.verify(token).then((u) => ['accepted', u], (e: Error) => ['refused', e.message]);
      let now: [string, string];
      try {
        now = ['accepted', issuer.verifyNow(token)];
      } catch (e) {
        now = ['refused', (e as Error).message];
      }
      assert.deepEqual(now, viaJose);
    });
  }

  it('accepts what we sign and refuses what is expired, as a sanity check of the cases', async () => {
    assert.equal(issuer.verifyNow(await issuer.sign(USER)), USER);
    assert.throws(() => issuer.verifyNow(forge(HS256, { ...good(), exp: now() - 1 })), /token expired/);
  });
});
