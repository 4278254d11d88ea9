'use strict'

// Load benchmark of the identity provider's protocol endpoints with autocannon.
// Expects a running server (see run.sh); prints a Markdown report to stdout and progress to stderr.
//
// Settings (environment):
//   BENCH_URL          server address, loopback only (required), e.g. http://127.0.0.1:5000 or https://localhost:8443
//   BENCH_DURATION     measured seconds per scenario and connection count (default 15)
//   BENCH_WARMUP       warm-up seconds before each measurement, not reported (default 30; 0 = none). With
//                      BENCH_SERVER_PID, a .NET server's warm-up goes on in 5 s steps (at most BENCH_WARMUP_MAX
//                      seconds in all, default 90) while its tiered-compilation thread still used more than 1 %
//                      of a core: measured before the JIT settles, a request's CPU includes compiling the code.
//   BENCH_CONNECTIONS  comma-separated connection counts (default 16,64)
//   BENCH_SCENARIOS    comma-separated subset of: client_credentials,refresh_token,introspection
//   BENCH_TIMEOUT      seconds before a request counts as timed out (default 10)
//   BENCH_TOKEN_POOL   access tokens prepared for the introspection scenario (default 256)
//   BENCH_SEED         seed file with the clients and user (default: seed.json beside this file)
//   BENCH_JSON         optional path: also write the raw figures there as JSON
//   BENCH_LABEL        name of the server variant measured, for the report and the JSON (default: ours)
//   BENCH_SERVER_PID   optional: the server's process id; its CPU time (utime+stime in /proc/PID/stat)
//                      is read just before and after each measured run and reported per 2xx response
//   BENCH_CLK_TCK      clock ticks per second of /proc/PID/stat (run.sh passes `getconf CLK_TCK`; default 100)
//   BENCH_GRANTS       how refresh-token chains start: code-flow (our server, default) or peer-route
//                      (the reference peer's bench-only POST /bench/grants, see peer/server.mjs)

const fs = require('node:fs')
const path = require('node:path')
const { CookieJar, OidcClient, FORWARDED_HEADERS, mapLimit, snippet } = require('./oidc')
const { logger, integerSetting, form, Observations, runAutocannon, settle } = require('./common')

const SCENARIOS = ['client_credentials', 'refresh_token', 'introspection']
const REDIRECT_URI = 'https://bench.example/cb'
const CODE_FLOW_SCOPE = 'openid offline_access orders'
const API_SCOPE = 'orders'

const log = logger('bench')

function listSetting (name, fallback) {
  const raw = process.env[name]
  return raw ? raw.split(',').map(s => s.trim()).filter(Boolean) : fallback
}

function grantSource () {
  const value = process.env.BENCH_GRANTS || 'code-flow'
  if (!['code-flow', 'peer-route'].includes(value)) throw new Error(`BENCH_GRANTS: '${value}' is not code-flow or peer-route`)
  return value
}

// CPU seconds (user + system, all threads) the process has used so far, from /proc/PID/stat.
function processCpuSeconds (pid, clockTicks) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may contain spaces: count the fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[14 - 3])
  const stime = Number(fields[15 - 3])
  return (utime + stime) / clockTicks
}

// CPU seconds of the server's tiered-compilation threads (.NET's background JIT; the name is cut to 15
// characters in /proc), by thread id; empty for a server without them (the reference peer). .NET ends
// the thread when it has nothing to compile and starts a new one later, so compare snapshots with
// jitCpuSince.
function jitCpuByThread (pid, clockTicks) {
  const found = new Map()
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      if (fs.readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').startsWith('.NET Tiered')) {
        found.set(task, processCpuSeconds(`${pid}/task/${task}`, clockTicks))
      }
    } catch { } // the thread ended meanwhile
  }
  return found
}

// The JIT's CPU seconds since an earlier snapshot (a thread that ended in between is not counted).
function jitCpuSince (before, pid, clockTicks) {
  let seconds = 0
  for (const [task, now] of jitCpuByThread(pid, clockTicks)) seconds += now - (before.get(task) ?? 0)
  return seconds
}

function readConfig () {
  if (!process.env.BENCH_URL) throw new Error('BENCH_URL is required (run.sh sets it), e.g. http://127.0.0.1:5000')
  const url = new URL(process.env.BENCH_URL)
  // Load is only ever sent to this machine: a node directly (plain HTTP) or a local TLS proxy in
  // front of nodes (HTTPS; its certificate trusted through NODE_EXTRA_CA_CERTS).
  if (!['http:', 'https:'].includes(url.protocol) || !/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname)) {
    throw new Error(`BENCH_URL must be a loopback address, not '${url}'`)
  }
  const connections = listSetting('BENCH_CONNECTIONS', ['16', '64']).map(c => {
    const n = Number(c)
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`BENCH_CONNECTIONS: '${c}' is not from 1 to 256`)
    return n
  })
  const scenarios = listSetting('BENCH_SCENARIOS', SCENARIOS)
  for (const s of scenarios) {
    if (!SCENARIOS.includes(s)) throw new Error(`BENCH_SCENARIOS: unknown scenario '${s}' (known: ${SCENARIOS.join(', ')})`)
  }
  const seedPath = process.env.BENCH_SEED || path.join(__dirname, 'seed.json')
  const seed = JSON.parse(fs.readFileSync(seedPath, 'utf8'))
  const client = id => {
    const found = seed.Clients.find(c => c.ClientId === id)
    if (!found) throw new Error(`${seedPath}: client '${id}' is missing`)
    return found
  }
  if (!seed.Users?.[0]?.Password) throw new Error(`${seedPath}: a user with a password is needed`)
  return {
    url: url.origin,
    duration: integerSetting('BENCH_DURATION', 15, 1, 600),
    warmup: integerSetting('BENCH_WARMUP', 30, 0, 120),
    warmupMax: integerSetting('BENCH_WARMUP_MAX', 90, 0, 600),
    timeout: integerSetting('BENCH_TIMEOUT', 10, 1, 60),
    tokenPool: integerSetting('BENCH_TOKEN_POOL', 256, 1, 10_000),
    connections,
    scenarios,
    worker: client('bench-worker'),
    web: client('bench-web'),
    api: client('orders-api'),
    user: seed.Users[0],
    label: process.env.BENCH_LABEL || 'ours',
    serverPid: process.env.BENCH_SERVER_PID ? integerSetting('BENCH_SERVER_PID', 0, 1, 2 ** 31) : null,
    clockTicks: integerSetting('BENCH_CLK_TCK', 100, 1, 1_000_000),
    grants: grantSource()
  }
}

const FORM_HEADERS = { ...FORWARDED_HEADERS, 'content-type': 'application/x-www-form-urlencoded' }

function cannonOptions (config, connections, duration, extra) {
  return {
    url: config.url,
    connections,
    pipelining: 1,
    duration,
    timeout: config.timeout,
    method: 'POST',
    headers: FORM_HEADERS,
    ...extra
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios. Each returns, per connection count, the autocannon options for one run and an
// `afterRun` hook that puts the scenario's state back in order between warm-up and measurement.

function clientCredentialsScenario (config) {
  return {
    title: 'client_credentials token',
    async setup () {},
    async prepare () {
      return {
        options (observations) {
          return {
            requests: [{
              method: 'POST',
              path: '/connect/token',
              headers: FORM_HEADERS,
              body: form({
                grant_type: 'client_credentials',
                client_id: config.worker.ClientId,
                client_secret: config.worker.ClientSecret,
                scope: API_SCOPE
              }),
              onResponse (status, body) {
                if (status !== 200 || !/"access_token"\s*:/.test(body)) observations.reject(status, body, status === 200 ? 'no access_token' : '')
              }
            }]
          }
        },
        async afterRun () {}
      }
    }
  }
}

function refreshTokenScenario (config, oidc) {
  const jar = new CookieJar()

  async function newChain (index) {
    let token
    if (config.grants === 'peer-route') {
      const response = await oidc.postJson('/bench/grants?count=1', {})
      token = response.json?.refresh_tokens?.[0]
      if (response.status !== 200 || !token) throw new Error(`peer grant: HTTP ${response.status}: ${snippet(response.text)}`)
    } else {
      const tokens = await oidc.codeFlow({
        jar, client: config.web, user: config.user, redirectUri: REDIRECT_URI, scope: CODE_FLOW_SCOPE
      })
      token = tokens.refresh_token
    }
    return { index, token, inflight: false, failed: false, rotations: 0 }
  }

  // A request still in flight when autocannon stopped may have rotated the token without the new
  // one reaching us. Within the reuse leeway (the benchmark runs our server with 30 s) the last token
  // we hold is still accepted once more, so redeem it now to get a token that is certainly current.
  async function repair (chain, observations) {
    let last = null
    for (let attempt = 0; attempt < 3; attempt++) {
      last = await oidc.refresh(config.web, chain.token)
      if (last.status === 200 && last.json?.refresh_token) {
        chain.token = last.json.refresh_token
        chain.inflight = false
        return true
      }
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    observations.note(`chain repair failed: HTTP ${last.status}`, last.text)
    return false
  }

  // The reference peer has no reuse leeway: redeeming a token that a cut-off request already rotated
  // revokes the grant, and so would that request if it reached the server after ours. Such a chain
  // starts again on a new grant instead, without touching the old one.
  async function restart (chain) {
    Object.assign(chain, await newChain(chain.index), { rotations: chain.rotations })
  }

  return {
    title: 'refresh_token rotation',
    async setup () {},
    async prepare (connections) {
      log(`  obtaining ${connections} refresh tokens ${config.grants === 'peer-route' ? 'from the peer\'s bench route' : 'through the authorization code flow'}`)
      // The chains share one browser session (one jar): sign in with the first flow alone, so the
      // others run in parallel without racing each other through the sign-in form (a form fetched
      // before another flow signed the jar in carries an antiforgery token for nobody: 400).
      const first = await newChain(0)
      const chains = [first, ...await mapLimit(connections - 1, 4, i => newChain(i + 1))]
      return {
        options (observations) {
          let next = 0
          return {
            // One chain per connection: autocannon clears `context` whenever it loops over the
            // request list, so the chain is bound to the connection's client object instead.
            setupClient (client) {
              const chain = chains[next++ % chains.length]
              client.setRequests([{
                method: 'POST',
                path: '/connect/token',
                headers: FORM_HEADERS,
                setupRequest (request) {
                  chain.inflight = true
                  request.body = form({
                    grant_type: 'refresh_token',
                    refresh_token: chain.token,
                    client_id: config.web.ClientId,
                    client_secret: config.web.ClientSecret
                  })
                  return request
                },
                onResponse (status, body) {
                  chain.inflight = false
                  if (status !== 200) {
                    chain.failed = true
                    observations.reject(status, body, '')
                    return
                  }
                  let refreshToken = null
                  try {
                    refreshToken = JSON.parse(body).refresh_token
                  } catch {
                    // counted below
                  }
                  if (!refreshToken) {
                    observations.reject(status, body, 'no refresh_token')
                    return
                  }
                  chain.token = refreshToken
                  chain.rotations++
                }
              }])
            }
          }
        },
        async afterRun (observations) {
          // Called after the settle pause, well within the leeway.
          if (config.grants === 'peer-route') {
            const stale = chains.filter(c => c.inflight || c.failed)
            await mapLimit(stale.length, 4, i => restart(stale[i]))
            return
          }
          const pending = chains.filter(c => c.inflight)
          await mapLimit(pending.length, 4, i => repair(pending[i], observations))
          // A chain whose grant was revoked (reuse detected) would fail forever: replace it.
          for (const chain of chains.filter(c => c.failed)) {
            const check = await oidc.refresh(config.web, chain.token)
            if (check.status === 200 && check.json?.refresh_token) {
              chain.token = check.json.refresh_token
            } else {
              observations.note(`chain ${chain.index} replaced after HTTP ${check.status}`, check.text)
              Object.assign(chain, await newChain(chain.index), { rotations: chain.rotations })
            }
            chain.failed = false
          }
        },
        rotations: () => chains.reduce((sum, c) => sum + c.rotations, 0)
      }
    }
  }
}

function introspectionScenario (config, oidc) {
  let pool = []
  return {
    title: 'introspection',
    async setup () {
      log(`  obtaining ${config.tokenPool} access tokens for the introspection pool`)
      pool = await mapLimit(config.tokenPool, 4, async () => {
        const response = await oidc.clientCredentials(config.worker, API_SCOPE)
        if (response.status !== 200 || !response.json?.access_token) {
          throw new Error(`access token for the pool: HTTP ${response.status}: ${snippet(response.text)}`)
        }
        return response.json.access_token
      })
      const probe = await oidc.introspect(config.api, pool[0])
      if (probe.status !== 200 || probe.json?.active !== true) {
        throw new Error(`introspection of a fresh access token is not active: HTTP ${probe.status}: ${snippet(probe.text)}`)
      }
    },
    async prepare () {
      return {
        options (observations) {
          let next = 0
          return {
            requests: [{
              method: 'POST',
              path: '/connect/introspect',
              headers: FORM_HEADERS,
              setupRequest (request) {
                request.body = form({
                  token: pool[next++ % pool.length],
                  client_id: config.api.ClientId,
                  client_secret: config.api.ClientSecret
                })
                return request
              },
              onResponse (status, body) {
                if (status !== 200 || !/"active"\s*:\s*true/.test(body)) observations.reject(status, body, status === 200 ? 'not active' : '')
              }
            }]
          }
        },
        async afterRun () {}
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

function summarize (scenario, connections, result, observations, extra) {
  const seconds = result.duration || 0
  return {
    scenario,
    connections,
    duration: seconds,
    ok: result['2xx'],
    rps: seconds > 0 ? result['2xx'] / seconds : 0,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    failedChecks: observations.failedChecks,
    statusCodes: result.statusCodeStats,
    samples: [...observations.samples].map(([key, value]) => ({ key, ...value })),
    ...extra
  }
}

function markdown (rows, config, preparationSamples) {
  const lines = []
  lines.push(`Each row: at least ${config.warmup} s warm-up (not counted; longer while a .NET server's JIT was still busy, see "warm-up s"), then ${config.duration} s measured; pipelining 1; ` +
    `request timeout ${config.timeout} s. req/s counts 2xx responses only; latencies are of 2xx responses.`)
  lines.push('')
  lines.push('| Scenario | Connections | warm-up s | req/s | p50 ms | p99 ms | CPU µs/req | of it JIT | non-2xx | errors | failed checks |')
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    if (r.failed) {
      lines.push(`| ${r.scenario} | ${r.connections} | | failed: ${r.failed} | | | | | | | |`)
      continue
    }
    const cpu = r.cpuPerRequestUs != null ? r.cpuPerRequestUs.toFixed(0) : ''
    const jit = r.jitSeconds != null && r.cpuSeconds > 0 ? `${(100 * r.jitSeconds / r.cpuSeconds).toFixed(0)} %` : ''
    lines.push(`| ${r.scenario} | ${r.connections} | ${r.warmupSeconds} | ${r.rps.toFixed(1)} | ${r.p50} | ${r.p99} | ${cpu} | ${jit} | ${r.non2xx} | ${r.errors} | ${r.failedChecks} |`)
  }
  lines.push('')
  lines.push('"CPU µs/req" is the server process\'s CPU time (user + system, all threads) during the measured run ' +
    'divided by its 2xx responses; "of it JIT" is the share of that time spent by .NET\'s tiered-compilation thread. ' +
    '"errors" are connection errors and timeouts seen by the load generator (timeouts included); ' +
    '"failed checks" are 2xx responses without the expected content (access_token, refresh_token, active=true).')

  const details = rows.filter(r => !r.failed && (r.samples.length > 0 || r.timeouts > 0))
  if (details.length > 0 || preparationSamples.length > 0) {
    lines.push('')
    lines.push('### Unexpected responses and errors')
    for (const r of details) {
      lines.push(`- ${r.scenario} × ${r.connections}: status codes ${JSON.stringify(r.statusCodes)}, timeouts ${r.timeouts}`)
      for (const s of r.samples) lines.push(`  - ${s.count} × ${s.key}: \`${s.example.replace(/`/g, "'")}\``)
    }
    for (const s of preparationSamples) lines.push(`- between runs: ${s.count} × ${s.key}: \`${s.example.replace(/`/g, "'")}\``)
  }
  const refresh = rows.filter(r => r.rotations !== undefined)
  if (refresh.length > 0) {
    lines.push('')
    lines.push('Refresh rotations stored by the connections (warm-up and measurement): ' +
      refresh.map(r => `${r.connections} connections: ${r.rotations}`).join(', ') + '.')
  }
  return lines.join('\n') + '\n'
}

async function main () {
  const config = readConfig()
  const oidc = new OidcClient(config.url)
  const factories = {
    client_credentials: clientCredentialsScenario,
    refresh_token: refreshTokenScenario,
    introspection: introspectionScenario
  }
  const rows = []
  const between = new Observations()

  for (const name of config.scenarios) {
    const scenario = factories[name](config, oidc)
    log(`scenario ${name}`)
    try {
      await scenario.setup()
    } catch (error) {
      log(`  setup failed: ${error.message}`)
      for (const connections of config.connections) rows.push({ scenario: name, connections, failed: snippet(error.message, 200) })
      continue
    }
    for (const connections of config.connections) {
      try {
        const run = await scenario.prepare(connections)
        let warmed = 0
        if (config.warmup > 0) {
          log(`  ${connections} connections: warm-up ${config.warmup} s`)
          let seconds = config.warmup
          for (;;) {
            const jitBefore = config.serverPid ? jitCpuByThread(config.serverPid, config.clockTicks) : null
            const warm = new Observations()
            await runAutocannon(cannonOptions(config, connections, seconds, run.options(warm)), warm)
            await settle()
            await run.afterRun(between)
            warmed += seconds
            const jitShare = jitBefore === null ? 0 : jitCpuSince(jitBefore, config.serverPid, config.clockTicks) / seconds
            if (jitShare <= 0.01 || warmed + 5 > config.warmupMax) break
            log(`  ${connections} connections: the JIT used ${(jitShare * 100).toFixed(0)} % of a core, warming up 5 s more`)
            seconds = 5
          }
        }
        log(`  ${connections} connections: measuring ${config.duration} s`)
        const observations = new Observations()
        const cpuBefore = config.serverPid ? processCpuSeconds(config.serverPid, config.clockTicks) : null
        const jitBefore = config.serverPid ? jitCpuByThread(config.serverPid, config.clockTicks) : null
        const result = await runAutocannon(cannonOptions(config, connections, config.duration, run.options(observations)), observations)
        const cpuSeconds = config.serverPid ? processCpuSeconds(config.serverPid, config.clockTicks) - cpuBefore : null
        const jitSeconds = jitBefore !== null ? jitCpuSince(jitBefore, config.serverPid, config.clockTicks) : null
        await settle()
        await run.afterRun(between)
        const row = summarize(name, connections, result, observations, {
          warmupSeconds: warmed,
          ...(jitSeconds !== null ? { jitSeconds } : {}),
          ...(run.rotations ? { rotations: run.rotations() } : {}),
          ...(cpuSeconds !== null ? { cpuSeconds, cpuPerRequestUs: result['2xx'] > 0 ? cpuSeconds / result['2xx'] * 1e6 : null } : {})
        })
        log(`  ${connections} connections: ${row.rps.toFixed(1)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ` +
          `non-2xx ${row.non2xx}, errors ${row.errors}, failed checks ${row.failedChecks}` +
          (row.cpuPerRequestUs != null ? `, server CPU ${row.cpuPerRequestUs.toFixed(0)} µs/request` : ''))
        rows.push(row)
      } catch (error) {
        log(`  ${connections} connections failed: ${error.stack || error.message}`)
        rows.push({ scenario: name, connections, failed: snippet(error.message, 200) })
      }
    }
  }

  if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ label: config.label, config: { ...config, worker: undefined, web: undefined, api: undefined, user: undefined }, rows }, null, 2))
  process.stdout.write(markdown(rows, config, [...between.samples].map(([key, value]) => ({ key, ...value }))))
  if (rows.some(r => r.failed)) process.exitCode = 1
}

main().catch(error => {
  log(error.stack || error.message)
  process.exit(1)
})
