/**
 * HS256 JWTs signed with the JWT secret (`auth.jwt_secret`), via `jose`.
 *
 * Verification follows the server: the signature must be HS256 with the secret; `exp` and `nbf`
 * are checked when present; `aud`, `iss` and `token_type` are not checked (so a refresh token also
 * authenticates); a token without `exp` never expires.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Claims } from '../http/context.js';

/** Dashboard access-token lifetime (24 h) and refresh-token lifetime (168 h), in seconds. */
export const ACCESS_TTL_SECONDS = 24 * 60 * 60;
export const REFRESH_TTL_SECONDS = 168 * 60 * 60;

export class JwtService {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  /** Signs `claims` (HS256). `ttlSeconds` undefined → no `exp`. */
  async sign(claims: Record<string, unknown>, ttlSeconds?: number): Promise<string> {
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' });
    if (ttlSeconds !== undefined) {
      const now = Math.floor(Date.now() / 1000);
      jwt.setIssuedAt(now).setNotBefore(now).setExpirationTime(now + ttlSeconds);
    }
    return jwt.sign(this.key);
  }

  /**
   * Tokens that passed verification, by token string, with their claims. Everything jose checks
   * but the time is a function of the token and the (fixed) secret, so a hit only has to check
   * `nbf` and `exp` against the clock again, as jose does on every call (`nbf > now` and
   * `exp <= now` in whole seconds, no tolerance). Saves the HMAC (webcrypto) per request.
   */
  private readonly verified = new Map<string, Claims>();
  private static readonly MAX_VERIFIED = 1000;

  /** Verifies a token; undefined when invalid or expired. */
  async verify(token: string): Promise<Claims | undefined> {
    if (!token) return undefined;
    const known = this.verified.get(token);
    if (known) {
      const now = Math.floor(Date.now() / 1000);
      if ((typeof known.nbf === 'number' && known.nbf > now) || (typeof known.exp === 'number' && known.exp <= now)) return undefined;
      return structuredClone(known);
    }
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] });
      if (this.verified.size >= JwtService.MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, structuredClone(payload) as Claims);
      return payload as Claims;
    } catch {
      return undefined;
    }
  }

  /**
   * A service_role JWT as `deploy/generate-keys.sh` mints it: `{"role":"service_role",
   * "token_type":"access","iss":"fluxbase","iat":…}`, no `exp`, no user id.
   */
  serviceRoleToken(): Promise<string> {
    return this.sign({ role: 'service_role', token_type: 'access', iss: 'fluxbase', iat: Math.floor(Date.now() / 1000) });
  }

  /**
   * A dashboard (platform.users) token pair. Claims: user_id, sub, email, role, session_id,
   * token_type, user_metadata, tenant_id?, tenant_role?, is_instance_admin, iss, aud, jti.
   */
  async dashboardPair(user: { id: string; email: string; role: string; fullName: string | null }, tenantId?: string, tenantRole?: string) {
    const sessionId = randomUUID();
    const base = {
      user_id: user.id,
      sub: user.id,
      email: user.email,
      role: user.role,
      session_id: sessionId,
      user_metadata: user.fullName ? { name: user.fullName } : {},
      ...(tenantId ? { tenant_id: tenantId } : {}),
      ...(tenantRole ? { tenant_role: tenantRole } : {}),
      is_instance_admin: user.role === 'instance_admin',
      iss: 'fluxbase',
      aud: ['fluxbase'],
    };
    const accessToken = await this.sign({ ...base, token_type: 'access', jti: randomUUID() }, ACCESS_TTL_SECONDS);
    const refreshToken = await this.sign({ ...base, token_type: 'refresh', jti: randomUUID() }, REFRESH_TTL_SECONDS);
    return { accessToken, refreshToken, sessionId };
  }

  /** A new access token from a refresh token's claims (user_id, email, role kept; tenant claims dropped). */
  accessFromRefresh(claims: Claims): Promise<string> {
    const userId = String(claims.user_id ?? claims.sub ?? '');
    return this.sign(
      {
        user_id: userId,
        sub: userId,
        email: claims.email ?? '',
        role: claims.role ?? '',
        session_id: claims.session_id ?? randomUUID(),
        token_type: 'access',
        user_metadata: claims.user_metadata ?? {},
        is_instance_admin: claims.role === 'instance_admin',
        iss: 'fluxbase',
        aud: ['fluxbase'],
        jti: randomUUID(),
      },
      ACCESS_TTL_SECONDS,
    );
  }
}
