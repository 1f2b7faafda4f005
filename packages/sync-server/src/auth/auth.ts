import { ConvergeError } from '@converge/conflict';

export type Access = 'read' | 'write';

/** Who a connection acts for, as `authenticate` returned it. */
export interface Principal {
  /** Stable id; limits per principal count by it. */
  readonly id: string;
  /** Collection name (or `'*'`) → allowed access. Absent: every collection, read and write. */
  readonly collections?: Readonly<Record<string, readonly Access[]>>;
  /** When set, only keys starting with it may be read or written. */
  readonly keyPrefix?: string;
}

/**
 * The relay's auth hooks. `authenticate` turns the token from `hello` into a principal (or
 * `undefined`: refused with `unauthorized`); `authorize` is asked on every subscribe, catch-up
 * batch, push and read, per key.
 */
export interface RelayAuth {
  /** True when the relay runs without authentication (it says so loudly at start). */
  readonly anonymous: boolean;
  authenticate(token: string | undefined): Promise<Principal | undefined>;
  authorize(principal: Principal, collection: string, key: string | undefined, access: Access): boolean;
}

/** Checks a principal's claims: collection access, then the key prefix. */
export function authorizeByClaims(principal: Principal, collection: string, key: string | undefined, access: Access): boolean {
  const grants = principal.collections;
  if (grants !== undefined) {
    const allowed = Object.hasOwn(grants, collection) ? grants[collection] : Object.hasOwn(grants, '*') ? grants['*'] : undefined;
    if (allowed === undefined || !allowed.includes(access)) return false;
  }
  return key === undefined || principal.keyPrefix === undefined || key.startsWith(principal.keyPrefix);
}

/** No authentication: every connection is the principal `anonymous` with full access. */
export const anonymousAuth: RelayAuth = {
  anonymous: true,
  authenticate: async () => ({ id: 'anonymous' }),
  authorize: () => true,
};

export interface JwtAuthOptions {
  /** The HS256 secret. */
  readonly secret: string;
  readonly issuer?: string;
  readonly audience?: string;
}

function accessList(value: unknown): Access[] | undefined {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,+]+/) : undefined;
  if (items === undefined) return undefined;
  const out: Access[] = [];
  for (const item of items) {
    if (item === 'read' || item === 'write') out.push(item);
    else if (item === 'read-write' || item === 'rw') out.push('read', 'write');
    else return undefined;
  }
  return out;
}

/**
 * HS256 JWT verification with `jose`. Claims: `sub` (required: the principal id),
 * `collections` (optional: `{ [name or '*']: 'read' | 'write' | 'read-write' | ['read', 'write'] }`;
 * absent means every collection, read and write), `prefix` (optional key prefix), and the
 * standard `exp`/`nbf`/`iss`/`aud` checks.
 *
 * @example
 * ```ts
 * const auth = jwtAuth({ secret: 'at-least-16-characters-of-secret' }); // e.g. from CONVERGE_JWT_SECRET
 * // token claims: { sub: 'u1', collections: { carts: 'read-write' }, prefix: 'u1/' }
 * ```
 */
export function jwtAuth(options: JwtAuthOptions): RelayAuth {
  if (options.secret.length < 16) throw new ConvergeError('internal', 'the JWT secret must have at least 16 characters');
  const key = new TextEncoder().encode(options.secret);
  return {
    anonymous: false,
    async authenticate(token) {
      if (token === undefined || token.length === 0) return undefined;
      try {
        // Loaded on first use: a relay without JWT auth never pays for jose's memory.
        const { jwtVerify } = await import('jose');
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
          ...(options.audience === undefined ? {} : { audience: options.audience }),
        });
        if (typeof payload.sub !== 'string' || payload.sub.length === 0) return undefined;
        const claims = payload as { collections?: unknown; prefix?: unknown };
        let collections: Record<string, Access[]> | undefined;
        if (claims.collections !== undefined) {
          if (typeof claims.collections !== 'object' || claims.collections === null || Array.isArray(claims.collections)) return undefined;
          collections = Object.create(null) as Record<string, Access[]>;
          for (const [name, value] of Object.entries(claims.collections)) {
            const access = accessList(value);
            if (access === undefined) return undefined;
            collections[name] = access;
          }
        }
        if (claims.prefix !== undefined && typeof claims.prefix !== 'string') return undefined;
        return {
          id: payload.sub,
          ...(collections === undefined ? {} : { collections }),
          ...(claims.prefix === undefined ? {} : { keyPrefix: claims.prefix as string }),
        };
      } catch {
        return undefined;
      }
    },
    authorize: authorizeByClaims,
  };
}
