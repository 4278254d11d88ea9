'use strict'

// Puts the runs of one benchmark (our server and its variants, the reference peer) side by side and
// checks the targets. Reads the JSON files bench.js wrote (BENCH_JSON), one per server variant;
// prints Markdown to stdout.
//
//   node compare.js ours.json ours-es256.json peer-jwt.json peer-opaque.json [ours-postgres.json]
//
// Settings (environment): BENCH_TARGET_CONNECTIONS, the connection count the targets are read at
// (default 64, or the largest measured when 64 was not).

const fs = require('node:fs')

const VARIANTS = {
  ours: 'our server (SQLite, RS256 access tokens)',
  'ours-es256': 'our server (SQLite, ES256 access tokens)',
  'ours-postgres': 'our server (PostgreSQL, RS256 access tokens)',
  'peer-jwt': 'reference peer: node-oidc-provider, JWT (RS256) access tokens',
  'peer-opaque': 'reference peer: node-oidc-provider, opaque access tokens'
}

function load (files) {
  const runs = new Map()
  for (const file of files) {
    if (!fs.existsSync(file)) continue
    const data = JSON.parse(fs.readFileSync(file, 'utf8'))
    runs.set(data.label, data.rows)
  }
  return runs
}

function number (value, digits = 0) {
  return value == null ? '' : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

function allRowsTable (runs) {
  const lines = [
    '| Server | Scenario | Connections | req/s | p50 ms | p99 ms | CPU µs/req | non-2xx | errors | failed checks |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|'
  ]
  for (const [label, rows] of runs) {
    for (const r of rows) {
      if (r.failed) {
        lines.push(`| ${label} | ${r.scenario} | ${r.connections} | failed: ${r.failed} | | | | | | |`)
        continue
      }
      lines.push(`| ${label} | ${r.scenario} | ${r.connections} | ${number(r.rps, 1)} | ${r.p50} | ${r.p99} | ` +
        `${number(r.cpuPerRequestUs)} | ${r.non2xx} | ${r.errors} | ${r.failedChecks} |`)
    }
  }
  return lines
}

function targetConnections (runs) {
  const measured = new Set([...runs.values()].flat().map(r => r.connections))
  const wanted = Number(process.env.BENCH_TARGET_CONNECTIONS || 64)
  return measured.has(wanted) ? wanted : Math.max(...measured)
}

function main () {
  const runs = load(process.argv.slice(2))
  if (runs.size === 0) throw new Error('no benchmark results to compare')
  const at = targetConnections(runs)
  const row = (label, scenario) => runs.get(label)?.find(r => r.scenario === scenario && r.connections === at && !r.failed)

  const checks = []
  const verdict = ok => (ok ? 'PASS' : '**FAIL**')

  // Throughput of ours against the reference: ours / reference ≥ factor.
  function ratio (title, ours, reference, factor) {
    const a = row(...ours)
    const b = row(...reference)
    if (!a || !b) {
      checks.push([title, a ? number(a.rps, 1) : 'not measured', b ? number(b.rps, 1) : 'not measured', '', `≥ ${factor}`, 'n/a'])
      return
    }
    const value = a.rps / b.rps
    checks.push([title, number(a.rps, 1), number(b.rps, 1), number(value, 2), `≥ ${factor}`, verdict(value >= factor)])
  }
  ratio('client_credentials req/s: ours / peer JWT client_credentials', ['ours', 'client_credentials'], ['peer-jwt', 'client_credentials'], 1.2)
  ratio('client_credentials req/s: ours with ES256 / peer JWT client_credentials', ['ours-es256', 'client_credentials'], ['peer-jwt', 'client_credentials'], 1.5)
  ratio('introspection req/s: ours / peer introspection (opaque)', ['ours', 'introspection'], ['peer-opaque', 'introspection'], 1.2)
  ratio('refresh rotations/s: ours / peer JWT client_credentials', ['ours', 'refresh_token'], ['peer-jwt', 'client_credentials'], 0.5)

  // CPU per request of ours: at most a bound.
  for (const [scenario, bound] of [['client_credentials', 800], ['introspection', 400], ['refresh_token', 2500]]) {
    const r = row('ours', scenario)
    const cpu = r?.cpuPerRequestUs
    checks.push([`${scenario} server CPU per request (ours)`, cpu == null ? 'not measured' : `${number(cpu)} µs`, '', '',
      `≤ ${number(bound)} µs`, cpu == null ? 'n/a' : verdict(cpu <= bound)])
  }

  // Latency and errors of every variant of ours.
  for (const label of [...runs.keys()].filter(l => l.startsWith('ours'))) {
    for (const r of runs.get(label).filter(r => r.connections === at)) {
      if (r.failed) {
        checks.push([`${label} ${r.scenario} p99`, 'failed', '', '', '< 100 ms', '**FAIL**'])
        continue
      }
      checks.push([`${label} ${r.scenario} p99`, `${r.p99} ms`, '', '', '< 100 ms', verdict(r.p99 < 100)])
    }
    const rows = runs.get(label)
    const bad = rows.reduce((sum, r) => sum + (r.failed ? 1 : r.non2xx + r.errors + r.failedChecks), 0)
    checks.push([`${label}: non-2xx + errors + failed checks, all rows`, number(bad), '', '', '0', verdict(bad === 0)])
  }

  // PostgreSQL: the same figures within 30 % (not more than 30 % fewer requests per second).
  if (runs.has('ours-postgres')) {
    for (const scenario of ['client_credentials', 'refresh_token', 'introspection']) {
      const pg = row('ours-postgres', scenario)
      const lite = row('ours', scenario)
      if (!pg || !lite) continue
      const value = pg.rps / lite.rps
      checks.push([`${scenario} req/s: PostgreSQL / SQLite`, number(pg.rps, 1), number(lite.rps, 1), number(value, 2), '≥ 0.70', verdict(value >= 0.7)])
    }
  }

  const out = []
  out.push('## Servers')
  out.push('')
  for (const label of runs.keys()) out.push(`- \`${label}\`: ${VARIANTS[label] || label}`)
  out.push('')
  out.push('## Every run')
  out.push('')
  out.push(...allRowsTable(runs))
  out.push('')
  out.push('"CPU µs/req": the server process\'s CPU time (user + system, all threads, from /proc/PID/stat) during the ' +
    'measured run, divided by its 2xx responses. The reference peer cannot introspect its own JWT access tokens ' +
    '(node-oidc-provider answers `unsupported_token_type` for structured tokens), so `peer-jwt` has no introspection row.')
  out.push('')
  out.push(`## Targets (${at} connections)`)
  out.push('')
  out.push('| Target | Ours | Reference | Ratio | Needed | Result |')
  out.push('|---|---:|---:|---:|---:|---|')
  for (const c of checks) out.push(`| ${c.join(' | ')} |`)
  const failed = checks.filter(c => c[5] === '**FAIL**').length
  const missing = checks.filter(c => c[5] === 'n/a').length
  out.push('')
  out.push(`${checks.length - failed - missing} of ${checks.length} checks pass, ${failed} fail` +
    (missing ? `, ${missing} not measured in this run` : '') + '. One short run on a shared machine is noisy: ' +
    'repeat before reading a ratio near its bound as a verdict.')
  process.stdout.write(out.join('\n') + '\n')
}

main()
