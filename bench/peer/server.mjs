// The reference peer of the load benchmark: node-oidc-provider (npm `oidc-provider`, pinned in
// ../package.json) with its in-memory adapter, configured to answer the same requests as our server
// for the same clients (../seed.json). See ../README.md ("The reference peer").
//
// Settings (environment):
//   PEER_PORT          port on 127.0.0.1 (required)
//   PEER_ISSUER        issuer (default https://127.0.0.1:PEER_PORT)
//   PEER_TOKEN_FORMAT  access-token format: jwt (RS256, default) or opaque
//   PEER_SEED          seed file with the clients and user (default ../seed.json)
//   PEER_STORE_SIZE    entries the in-memory store holds (default 2,000,000; see below)
//   PEER_DEBUG         1 logs the reason of every failed token request
//
// Plain HTTP on loopback behind a simulated TLS-terminating proxy, like our server in the benchmark:
// the app trusts X-Forwarded-Proto. One bench-only route, POST /bench/grants?count=N, mints N grants
// of the user to bench-web (scopes openid offline_access orders, as the authorization code flow would)
// and returns a refresh token for each: driving the peer's interaction pages is not what is measured.

import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import Provider, { errors } from 'oidc-provider'
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js'
import LRU from 'oidc-provider/lib/helpers/lru.js'

const here = dirname(fileURLToPath(import.meta.url))
const port = Number(process.env.PEER_PORT)
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('PEER_PORT must be a port number')
const issuer = process.env.PEER_ISSUER || `https://127.0.0.1:${port}`
const format = process.env.PEER_TOKEN_FORMAT || 'jwt'
if (!['jwt', 'opaque'].includes(format)) throw new Error(`PEER_TOKEN_FORMAT must be jwt or opaque, not '${format}'`)
const seed = JSON.parse(readFileSync(process.env.PEER_SEED || join(here, '..', 'seed.json'), 'utf8'))

// Our server maps the scope `orders` to the resource `orders-api` (the access token's audience).
// node-oidc-provider expresses that through resource indicators; requests name no resource, so the
// default resource applies, as on our server.
const RESOURCE = 'urn:bench:orders-api'
const AUDIENCE = 'orders-api'
const API_SCOPE = 'orders'
const USER_SCOPE = 'openid offline_access'

function seedClient (id) {
  const client = seed.Clients.find(c => c.ClientId === id)
  if (!client) throw new Error(`seed: client '${id}' is missing`)
  return client
}
const worker = seedClient('bench-worker')
const web = seedClient('bench-web')
const api = seedClient('orders-api')
const user = seed.Users[0]

// The default in-memory adapter keeps its entries in a cache of 1,000 entries (two generations):
// at hundreds of rotations per second it forgets refresh tokens and grants still in use ("refresh
// token not found", "grant not found" under load). The same adapter over a cache large enough for a
// whole benchmark run keeps everything until it expires, as a database would.
const store = new LRU({ maxSize: Number(process.env.PEER_STORE_SIZE || 2_000_000) })
const adapter = model => new MemoryAdapter(model, store)

// RSA-2048 signing key, made at start like the benchmark's certificates.
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })

// Our bench sends the client id and secret in the form body: client_secret_post.
const clients = [
  {
    client_id: worker.ClientId,
    client_secret: worker.ClientSecret,
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: API_SCOPE
  },
  {
    client_id: web.ClientId,
    client_secret: web.ClientSecret,
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: web.RedirectUris,
    scope: `${USER_SCOPE} ${API_SCOPE}`
  },
  {
    client_id: api.ClientId,
    client_secret: api.ClientSecret,
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: [],
    response_types: [],
    redirect_uris: []
  }
]

// The seed's one user; the refresh grant looks the account up on every rotation, as ours does.
const accounts = new Map([[user.UserName, { email: user.Email }]])

const provider = new Provider(issuer, {
  adapter,
  clients,
  jwks: { keys: [{ ...signingKey, kid: 'bench-rs256', use: 'sig', alg: 'RS256' }] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', API_SCOPE],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  async findAccount (ctx, id) {
    const account = accounts.get(id)
    if (!account) return undefined
    return {
      accountId: id,
      async claims () {
        return { sub: id, email: account.email, email_verified: true }
      }
    }
  },
  routes: {
    authorization: '/connect/authorize',
    token: '/connect/token',
    introspection: '/connect/introspect',
    revocation: '/connect/revoke',
    userinfo: '/connect/userinfo',
    end_session: '/connect/endsession',
    jwks: '/.well-known/jwks'
  },
  // Lifetimes as on our server (appsettings.json).
  ttl: {
    AccessToken: 15 * 60,
    ClientCredentials: 15 * 60,
    IdToken: 20 * 60,
    AuthorizationCode: 5 * 60,
    RefreshToken: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
    Interaction: 3600,
    Session: 14 * 24 * 3600
  },
  rotateRefreshToken: true,
  clientBasedCORS: () => false,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // The resource server (a confidential client) may introspect any token, as on our server.
      allowedPolicy: (ctx, client) => client.clientAuthMethod !== 'none'
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo (ctx, resource) {
        if (resource !== RESOURCE) throw new errors.InvalidTarget()
        return format === 'jwt'
          ? { scope: API_SCOPE, audience: AUDIENCE, accessTokenTTL: 15 * 60, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }
          : { scope: API_SCOPE, audience: AUDIENCE, accessTokenTTL: 15 * 60, accessTokenFormat: 'opaque' }
      }
    }
  }
})
provider.proxy = true

// Bench-only: grants and refresh tokens as the authorization code flow would leave them.
async function mintRefreshToken () {
  const grant = new provider.Grant({ accountId: user.UserName, clientId: web.ClientId })
  grant.addOIDCScope(USER_SCOPE)
  grant.addResourceScope(RESOURCE, API_SCOPE)
  const grantId = await grant.save()
  const client = await provider.Client.find(web.ClientId)
  const token = new provider.RefreshToken({
    accountId: user.UserName,
    client,
    grantId,
    gty: 'authorization_code',
    authTime: Math.floor(Date.now() / 1000),
    scope: `${USER_SCOPE} ${API_SCOPE}`,
    resource: RESOURCE
  })
  return token.save()
}

provider.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || ctx.path !== '/bench/grants') return next()
  const count = Number(ctx.query.count ?? 1)
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    ctx.status = 400
    ctx.body = { error: 'invalid_request', error_description: 'count must be from 1 to 1000' }
    return
  }
  const tokens = []
  for (let i = 0; i < count; i++) tokens.push(await mintRefreshToken())
  ctx.body = { refresh_tokens: tokens }
})

provider.listen(port, '127.0.0.1', () => {
  console.log(`peer: oidc-provider on http://127.0.0.1:${port}, issuer ${issuer}, ${format} access tokens`)
})
// PEER_DEBUG=1 logs why token requests fail (the response only says invalid_grant).
if (process.env.PEER_DEBUG) provider.on('grant.error', (ctx, error) => console.error('grant.error', error.error_detail || error.message))
