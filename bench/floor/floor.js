'use strict'

// Load script of the OpenIddict floor (see README.md): one scenario against a running floor server
// (run.sh starts one), a warm-up, then one measured autocannon run. Prints a Markdown report to
// stdout and progress to stderr; exits with 1 when the measured run saw no success, a non-2xx
// response or a failed check.
//
// Settings (environment):
//   BENCH_URL            server address, loopback only (required), e.g. http://127.0.0.1:5000
//   BENCH_MODE           the server's mode, a label for the report (Degraded, Sqlite or Stock)
//   BENCH_SCENARIO       cc, refresh or introspect (default cc)
//   BENCH_CONNECTIONS    connections (default 64)
//   BENCH_WARMUP         warm-up seconds, not reported (default 10; 0 = none)
//   BENCH_DURATION       measured seconds (default 20)
//   BENCH_TIMEOUT        seconds before a request counts as timed out (default 10)
//   BENCH_TOKEN_POOL     access tokens in the introspection pool (default 256)
//   BENCH_WORKER_SECRET  secret of the client bench-worker (required)
//   BENCH_API_SECRET     secret of the resource server orders-api (required for introspect)
//   BENCH_SERVER_PID     the server's process id: its CPU time is sampled over the measured run (optional, Linux)

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const { OidcClient, mapLimit, snippet } = require('../oidc')
const { logger, integerSetting, form, Observations, runAutocannon: runCannon, settle } = require('../common')

const SCENARIOS = ['cc', 'refresh', 'introspect']
const SCOPE = 'orders'
const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' }

const log = logger('floor')

function requiredSetting (name) {
  if (!process.env[name]) throw new Error(`${name} is required (run.sh sets it)`)
  return process.env[name]
}

function readConfig () {
  const url = new URL(requiredSetting('BENCH_URL'))
  if (url.protocol !== 'http:' || !/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname)) {
    throw new Error(`BENCH_URL must be a plain-HTTP loopback address, not '${url}'`)
  }
  const scenario = process.env.BENCH_SCENARIO || 'cc'
  if (!SCENARIOS.includes(scenario)) throw new Error(`BENCH_SCENARIO must be one of ${SCENARIOS.join(', ')}, not '${scenario}'`)
  const pid = integerSetting('BENCH_SERVER_PID', 0, 0, 2 ** 31 - 1)
  return {
    url: url.origin,
    mode: process.env.BENCH_MODE || '?',
    scenario,
    connections: integerSetting('BENCH_CONNECTIONS', 64, 1, 1024),
    warmup: integerSetting('BENCH_WARMUP', 10, 0, 600),
    duration: integerSetting('BENCH_DURATION', 20, 1, 3600),
    timeout: integerSetting('BENCH_TIMEOUT', 10, 1, 120),
    tokenPool: integerSetting('BENCH_TOKEN_POOL', 256, 1, 100_000),
    worker: { ClientId: 'bench-worker', ClientSecret: requiredSetting('BENCH_WORKER_SECRET') },
    api: { ClientId: 'orders-api', ClientSecret: scenario === 'introspect' ? requiredSetting('BENCH_API_SECRET') : '' },
    serverPid: pid > 0 ? pid : null
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios: setup() once, options(observations) per autocannon run, afterWarmup() between the
// warm-up and the measured run; `check` names what each response must contain, notes() adds lines
// to the report.

function clientCredentialsScenario (config) {
  return {
    check: 'an access_token',
    async setup () {},
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
            scope: SCOPE
          }),
          onResponse (status, body) {
            if (status !== 200 || !/"access_token"\s*:/.test(body)) observations.reject(status, body, status === 200 ? 'no access_token' : '')
          }
        }]
      }
    },
    async afterWarmup () {},
    notes: () => []
  }
}

// Rolling refresh tokens: each connection keeps its own chain (a refresh token obtained with
// client_credentials and offline_access), and each response's new refresh token replaces the old one.
function refreshTokenScenario (config, oidc) {
  let chains = []
  let rotations = 0
  let replaced = 0

  async function newChain () {
    const response = await oidc.clientCredentials(config.worker, `${SCOPE} offline_access`)
    if (response.status !== 200 || !response.json?.refresh_token) {
      throw new Error(`client_credentials with offline_access gave no refresh token: HTTP ${response.status}: ${snippet(response.text)}`)
    }
    return { token: response.json.refresh_token, inflight: false, failed: false }
  }

  return {
    check: 'a new refresh_token',
    async setup () {
      log(`obtaining ${config.connections} refresh tokens (client_credentials, scope "${SCOPE} offline_access")`)
      chains = await mapLimit(config.connections, 4, () => newChain())
    },
    options (observations) {
      let next = 0
      return {
        // One chain per connection: autocannon clears `context` whenever it loops over the request
        // list, so the chain is bound to the connection's client object instead.
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
                client_id: config.worker.ClientId,
                client_secret: config.worker.ClientSecret
              })
              return request
            },
            onResponse (status, body) {
              chain.inflight = false
              let token = null
              try {
                token = JSON.parse(body).refresh_token
              } catch {
                // rejected below
              }
              if (status !== 200 || !token || token === chain.token) {
                chain.failed = true
                observations.reject(status, body, status !== 200 ? '' : token ? 'refresh_token not rotated' : 'no refresh_token')
                return
              }
              chain.token = token
              rotations++
            }
          }])
        }
      }
    },
    // A request still in flight when the warm-up stopped may have rotated its chain without the new
    // token reaching us, and a failed chain stays failed: give both a new chain, so that the measured
    // run starts with valid tokens only.
    async afterWarmup () {
      const stale = chains.filter(c => c.inflight || c.failed)
      if (stale.length === 0) return
      log(`replacing ${stale.length} chain(s) left in flight or failed by the warm-up`)
      const fresh = await mapLimit(stale.length, 4, () => newChain())
      stale.forEach((chain, i) => Object.assign(chain, fresh[i]))
      replaced += stale.length
    },
    notes: () => [`Refresh chains: ${rotations} rotations in warm-up and measurement; ${replaced} chain(s) replaced after the warm-up`]
  }
}

// The resource server introspects access tokens from a pool, in turn.
function introspectionScenario (config, oidc) {
  let pool = []
  return {
    check: '"active": true',
    async setup () {
      log(`obtaining ${config.tokenPool} access tokens (client_credentials, scope "${SCOPE}") for the introspection pool`)
      pool = await mapLimit(config.tokenPool, 4, async () => {
        const response = await oidc.clientCredentials(config.worker, SCOPE)
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
    async afterWarmup () {},
    notes: () => []
  }
}

// ---------------------------------------------------------------------------------------------
// CPU time of the server process, user + system, from /proc/<pid>/stat: averaged over the measured
// run, and per second for the spread.

function cpuSampler (pid) {
  if (pid === null) return null
  const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
  const cpuSeconds = () => {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The fields after "(command) " start with the state (field 3); utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
  }
  const now = () => Number(process.hrtime.bigint()) / 1e9
  const start = { cpu: cpuSeconds(), time: now() }
  let last = start
  const perSecond = []
  const timer = setInterval(() => {
    const sample = { cpu: cpuSeconds(), time: now() }
    perSecond.push((sample.cpu - last.cpu) / (sample.time - last.time))
    last = sample
  }, 1000)
  return {
    stop () {
      clearInterval(timer)
      const end = { cpu: cpuSeconds(), time: now() }
      return { average: (end.cpu - start.cpu) / (end.time - start.time), perSecond }
    }
  }
}

function residentMebibytes (pid) {
  const match = pid === null ? null : fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m)
  return match ? Number(match[1]) / 1024 : null
}

function runAutocannon (config, duration, scenario, observations) {
  return runCannon({
    url: config.url,
    connections: config.connections,
    pipelining: 1,
    duration,
    timeout: config.timeout,
    method: 'POST',
    headers: FORM_HEADERS,
    ...scenario.options(observations)
  }, observations)
}

function report (config, scenario, result, observations, cpu, generatorCores, rssMiB) {
  const seconds = result.duration
  const rps = seconds > 0 ? result['2xx'] / seconds : 0
  const cores = cpu ? cpu.average.toFixed(2) : 'n/a'
  const lines = [
    `## OpenIddict floor: ${config.mode} / ${config.scenario}`,
    '',
    `${config.connections} connections, ${config.warmup} s warm-up (not counted), ${config.duration} s measured; pipelining 1; ` +
      `request timeout ${config.timeout} s. req/s counts 2xx responses only; latencies (ms) are of 2xx responses.`,
    '',
    '| Mode | Scenario | req/s | p50 | p99 | server CPU (cores) |',
    '|---|---|---:|---:|---:|---:|',
    `| ${config.mode} | ${config.scenario} | ${rps.toFixed(1)} | ${result.latency.p50} | ${result.latency.p99} | ${cores} |`,
    '',
    `- Responses: ${result['2xx']} 2xx, ${result.non2xx} non-2xx ${JSON.stringify(result.statusCodeStats)}; ` +
      `${result.errors} errors (${result.timeouts} timeouts); ${observations.failedChecks} failed checks (2xx without ${scenario.check})`,
    `- Latency: p90 ${result.latency.p90} ms, max ${result.latency.max} ms`
  ]
  if (cpu) {
    const spread = cpu.perSecond.length > 0
      ? ` (per second: ${Math.min(...cpu.perSecond).toFixed(2)} to ${Math.max(...cpu.perSecond).toFixed(2)})`
      : ''
    const memory = rssMiB === null ? '' : `; ${rssMiB.toFixed(0)} MiB resident at the end`
    lines.push(`- Server: ${cpu.average.toFixed(2)} cores on average${spread}${memory}`)
  }
  lines.push(`- Load generator (same machine): ${generatorCores.toFixed(2)} cores`)
  for (const note of scenario.notes()) lines.push(`- ${note}`)
  for (const [key, sample] of observations.samples) {
    lines.push(`- ${sample.count} × ${key}: \`${sample.example.replace(/`/g, "'")}\``)
  }
  return lines.join('\n') + '\n'
}

async function main () {
  const config = readConfig()
  const oidc = new OidcClient(config.url)
  const factories = { cc: clientCredentialsScenario, refresh: refreshTokenScenario, introspect: introspectionScenario }
  const scenario = factories[config.scenario](config, oidc)

  log(`${config.mode} / ${config.scenario} at ${config.url}: ${config.connections} connections, ` +
    `warm-up ${config.warmup} s, measured ${config.duration} s`)
  await scenario.setup()

  if (config.warmup > 0) {
    log(`warm-up ${config.warmup} s`)
    const warm = new Observations()
    const result = await runAutocannon(config, config.warmup, scenario, warm)
    log(`warm-up: ${result['2xx']} 2xx, ${result.non2xx} non-2xx, ${result.errors} errors, ${warm.failedChecks} failed checks`)
    await settle()
    await scenario.afterWarmup()
  }

  log(`measuring ${config.duration} s`)
  const observations = new Observations()
  const generatorStart = process.cpuUsage()
  const started = process.hrtime.bigint()
  const sampler = cpuSampler(config.serverPid)
  const result = await runAutocannon(config, config.duration, scenario, observations)
  const cpu = sampler?.stop()
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  const generator = process.cpuUsage(generatorStart)
  await settle()

  process.stdout.write(report(config, scenario, result, observations,
    cpu, (generator.user + generator.system) / 1e6 / elapsed, residentMebibytes(config.serverPid)))
  if (result['2xx'] === 0 || result.non2xx > 0 || observations.failedChecks > 0) process.exitCode = 1
}

main().catch(error => {
  log(error.stack || error.message)
  process.exit(1)
})
