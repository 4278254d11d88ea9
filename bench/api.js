'use strict'

// Load benchmark of the samples API's protected endpoint (GET /api/hello with a bearer token).
// Expects running APIs (see api.sh); prints a Markdown table to stdout and progress to stderr.
//
// Settings (environment):
//   API_TARGETS        comma-separated label=url pairs, e.g. "introspection=http://127.0.0.1:5004"
//   API_TOKEN          the bearer token to send
//   BENCH_DURATION     measured seconds per row (default 10)
//   BENCH_WARMUP       warm-up seconds before each row, not reported (default 5)
//   BENCH_CONNECTIONS  comma-separated connection counts (default 16,64)

const autocannon = require('autocannon')

function log (message) {
  process.stderr.write(`[api-bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

function integer (name, fallback) {
  const raw = process.env[name]
  if (!raw) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, not '${raw}'`)
  return value
}

function run (url, token, connections, duration) {
  return new Promise((resolve, reject) => {
    autocannon({
      url: `${url}/api/hello`,
      connections,
      pipelining: 1,
      duration,
      timeout: 10,
      headers: { authorization: `Bearer ${token}` }
    }, (error, result) => (error ? reject(error) : resolve(result)))
  })
}

async function main () {
  const token = process.env.API_TOKEN
  if (!token) throw new Error('API_TOKEN is required')
  const targets = (process.env.API_TARGETS || '').split(',').filter(Boolean).map(pair => {
    const at = pair.indexOf('=')
    return { label: pair.slice(0, at), url: pair.slice(at + 1) }
  })
  if (targets.length === 0) throw new Error('API_TARGETS is required')
  const duration = integer('BENCH_DURATION', 10)
  const warmup = integer('BENCH_WARMUP', 5)
  const connectionCounts = (process.env.BENCH_CONNECTIONS || '16,64').split(',').map(Number)

  const rows = []
  for (const target of targets) {
    for (const connections of connectionCounts) {
      if (warmup > 0) {
        log(`${target.label}, ${connections} connections: warm-up ${warmup} s`)
        await run(target.url, token, connections, warmup)
      }
      log(`${target.label}, ${connections} connections: measuring ${duration} s`)
      const r = await run(target.url, token, connections, duration)
      rows.push(`| ${target.label} | ${connections} | ${Math.round(r.requests.average).toLocaleString('en-US')} | ` +
        `${r.latency.p50} | ${r.latency.p99} | ${r.non2xx} | ${r.errors + r.timeouts} |`)
      await new Promise(resolve => setTimeout(resolve, 1000))
    }
  }
  console.log('| Mode | Connections | req/s | p50 ms | p99 ms | non-2xx | errors |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const row of rows) console.log(row)
}

main().catch(error => {
  log(`error: ${error.message}`)
  process.exit(1)
})
