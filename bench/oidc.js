'use strict'

// Minimal OpenID Connect client used to prepare the benchmark: a cookie jar, the authorization code
// flow with PKCE through the real sign-in (and, if shown, consent) pages, and plain token requests.
// Only Node's built-in fetch is used. Every request carries X-Forwarded-Proto: https because the
// server runs behind a simulated TLS-terminating proxy.

const crypto = require('node:crypto')

const FORWARDED_HEADERS = Object.freeze({ 'x-forwarded-proto': 'https' })

class CookieJar {
  constructor () {
    this.cookies = new Map()
  }

  // The server marks its cookies Secure; it believes the connection is HTTPS, so send them anyway.
  store (response) {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0]
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const expired = /;\s*expires=Thu, 01 Jan 1970/i.test(line) || /;\s*max-age=0/i.test(line)
      if (expired || value === '') {
        this.cookies.delete(name)
      } else {
        this.cookies.set(name, value)
      }
    }
  }

  header () {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

function base64url (buffer) {
  return buffer.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function createPkce () {
  const verifier = base64url(crypto.randomBytes(32))
  const challenge = base64url(crypto.createHash('sha256').update(verifier).digest())
  return { verifier, challenge }
}

function decodeEntities (text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos|#39);/gi, (entity, code) => {
    const lower = code.toLowerCase()
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16))
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10))
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[lower]
  })
}

// The hidden inputs of the first <form> of a page, in document order (name, value).
function hiddenFields (html) {
  const start = html.search(/<form[\s>]/i)
  const end = html.indexOf('</form>', start)
  if (start < 0 || end < 0) return null
  const form = html.slice(start, end)
  const fields = []
  for (const [tag] of form.matchAll(/<input\b[^>]*>/gi)) {
    const attributes = {}
    for (const match of tag.matchAll(/([^\s=/>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      attributes[match[1].toLowerCase()] = decodeEntities(match[2] ?? match[3] ?? '')
    }
    if ((attributes.type || '').toLowerCase() === 'hidden' && attributes.name) {
      fields.push([attributes.name, attributes.value ?? ''])
    }
  }
  return fields
}

function snippet (text, length = 300) {
  const flat = String(text).replace(/\s+/g, ' ').trim()
  return flat.length > length ? flat.slice(0, length) + '…' : flat
}

class OidcClient {
  // base: the server's own address, for example http://127.0.0.1:5000
  constructor (base) {
    this.base = new URL(base)
  }

  async request (method, pathAndQuery, { jar, form } = {}) {
    const headers = { ...FORWARDED_HEADERS }
    if (jar && jar.cookies.size > 0) headers.cookie = jar.header()
    let body
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(form).toString()
    }
    const response = await fetch(new URL(pathAndQuery, this.base), {
      method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(30_000)
    })
    if (jar) jar.store(response)
    const text = await response.text()
    return { status: response.status, location: response.headers.get('location'), text }
  }

  async postJson (path, form) {
    const response = await this.request('POST', path, { form })
    let json = null
    try {
      json = JSON.parse(response.text)
    } catch {
      // not JSON: reported by the caller with the raw body
    }
    return { ...response, json }
  }

  clientCredentials (client, scope) {
    return this.postJson('/connect/token', {
      grant_type: 'client_credentials', client_id: client.ClientId, client_secret: client.ClientSecret, scope
    })
  }

  refresh (client, refreshToken) {
    return this.postJson('/connect/token', {
      grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.ClientId, client_secret: client.ClientSecret
    })
  }

  introspect (client, token) {
    return this.postJson('/connect/introspect', {
      token, client_id: client.ClientId, client_secret: client.ClientSecret
    })
  }

  // Authorization code flow with PKCE as a browser would run it: authorize → sign-in page → back to
  // authorize → (consent page, if the client needs one) → redirect to the client with a code; then
  // the client redeems the code. Returns the token response (access, refresh and identity tokens).
  // The jar keeps the sign-in session, so later calls with the same jar skip the sign-in page.
  async codeFlow ({ jar, client, user, redirectUri, scope }) {
    const pkce = createPkce()
    const state = base64url(crypto.randomBytes(12))
    let path = '/connect/authorize?' + new URLSearchParams({
      client_id: client.ClientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope,
      state,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256'
    }).toString()
    let response = await this.request('GET', path, { jar })
    let code = null

    for (let hop = 0; hop < 12 && code === null; hop++) {
      if (response.status >= 300 && response.status < 400 && response.location) {
        if (response.location.startsWith(redirectUri)) {
          const parameters = new URL(response.location).searchParams
          if (parameters.get('error')) {
            throw new Error(`authorization failed: ${parameters.get('error')} ${parameters.get('error_description') || ''}`)
          }
          if (parameters.get('state') !== state) throw new Error('authorization response has the wrong state')
          code = parameters.get('code')
          if (!code) throw new Error(`authorization response without a code: ${response.location}`)
          break
        }
        // A redirect within the server (it builds https:// URLs from X-Forwarded-Proto): follow over HTTP.
        const target = new URL(response.location, `https://${this.base.host}`)
        if (target.host !== this.base.host) throw new Error(`unexpected redirect to ${response.location}`)
        path = target.pathname + target.search
        response = await this.request('GET', path, { jar })
        continue
      }

      const page = new URL(path, this.base).pathname.toLowerCase()
      const fields = response.status === 200 ? hiddenFields(response.text) : null
      if (fields && page === '/account/login') {
        const form = fields.filter(([name]) => name !== 'Input.Login' && name !== 'Input.Password')
        form.push(['Input.Login', user.UserName], ['Input.Password', user.Password])
        response = await this.request('POST', path, { jar, form })
        if (response.status === 200) {
          throw new Error(`sign-in failed for ${user.UserName}: ${snippet(response.text.match(/role="alert"[^>]*>([^<]*)/)?.[1] || response.text)}`)
        }
        continue
      }
      if (fields && page === '/connect/authorize') {
        // Consent page: the authorization request travels in the form's hidden fields.
        const form = [...fields, ['consent', 'accept']]
        path = '/connect/authorize'
        response = await this.request('POST', path, { jar, form })
        continue
      }
      throw new Error(`code flow: unexpected HTTP ${response.status} at ${path}: ${snippet(response.text)}`)
    }
    if (code === null) throw new Error('code flow: too many redirects')

    const tokens = await this.postJson('/connect/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: pkce.verifier,
      client_id: client.ClientId,
      client_secret: client.ClientSecret
    })
    if (tokens.status !== 200 || !tokens.json?.refresh_token) {
      throw new Error(`code redemption: HTTP ${tokens.status}: ${snippet(tokens.text)}`)
    }
    return tokens.json
  }
}

// Runs task(i) for i in [0, count) with at most `parallel` at a time; returns the results in order.
async function mapLimit (count, parallel, task) {
  const results = new Array(count)
  let next = 0
  async function worker () {
    while (next < count) {
      const i = next++
      results[i] = await task(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker))
  return results
}

module.exports = { CookieJar, OidcClient, FORWARDED_HEADERS, hiddenFields, mapLimit, snippet }
