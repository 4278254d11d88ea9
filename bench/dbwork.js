'use strict'

// Database work per request, on PostgreSQL: for each kind of request, resets the database's
// statement statistics (pg_stat_statements), sends COUNT requests one after another, and reports
// statements (reads, writes), rows written, database execution time, and the CPU time of PostgreSQL
// and of the nodes (DBWORK_NODE_PIDS) per request. The input for the paper
// estimate in docs/performance.md. Each kind first runs COUNT/2 unmeasured requests (JIT warm-up).
//
// Settings (environment):
//   BENCH_URL    the server (a node or the proxy in front of the nodes), loopback only
//   DBWORK_PSQL  psql arguments reaching the server's database, e.g. "-h 127.0.0.1 -p 55499 -U postgres -d idp"
//   DBWORK_COUNT requests per kind (default 200)
//   DBWORK_NODE_PIDS  the nodes' process ids, space-separated (their CPU time is read from /proc)
//   BENCH_SEED   seed file (default: seed.json beside this file)

const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { CookieJar, OidcClient } = require('./oidc')

const REDIRECT_URI = 'https://bench.example/cb'

function psql (sql) {
  const args = (process.env.DBWORK_PSQL || '').split(' ').filter(Boolean)
  return execFileSync('psql', [...args, '-X', '-A', '-t', '-F', '\t', '-c', sql], { encoding: 'utf8' }).trim()
}

function reset () {
  psql('SELECT pg_stat_statements_reset()')
}

// Only this database's statements (pg_stat_statements is updated as each statement ends), without
// the statistics queries themselves.
function read () {
  const [calls, reads, writes, ms, written] = psql(`SELECT coalesce(sum(calls),0),
      coalesce(sum(calls) FILTER (WHERE query ~* '^\\s*(select|with)'),0),
      coalesce(sum(calls) FILTER (WHERE query ~* '^\\s*(insert|update|delete)'),0),
      coalesce(sum(total_exec_time),0),
      coalesce(sum(rows) FILTER (WHERE query ~* '^\\s*(insert|update|delete)'),0)
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND query NOT ILIKE '%pg_stat%'`).split('\t').map(Number)
  return { calls, reads, writes, ms, written }
}

// CPU seconds (user + system) used so far by the given processes; /proc/PID/stat counts in ticks of 1/100 s.
function cpuSeconds (pids) {
  let ticks = 0
  for (const pid of pids) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // a backend that ended in between
    }
  }
  return ticks / 100
}

const nodePids = () => (process.env.DBWORK_NODE_PIDS || '').split(' ').filter(Boolean)
// Every process of the PostgreSQL server (postmaster and backends), found by their owner: on a machine
// running another PostgreSQL server as well, its CPU time counts too.
const databasePids = () => {
  try {
    return execFileSync('pgrep', ['-u', 'postgres'], { encoding: 'utf8' }).split('\n').filter(Boolean)
  } catch {
    return []
  }
}

async function measure (title, count, prepare, request) {
  const state = await prepare()
  // Unmeasured rounds first: the node's JIT compiles its code paths during the first requests.
  for (let i = 0; i < Math.ceil(count / 2); i++) await request(state, i)
  reset()
  const dbPids = databasePids()
  const nodeCpu = cpuSeconds(nodePids())
  const dbCpu = cpuSeconds(dbPids)
  const started = process.hrtime.bigint()
  for (let i = 0; i < count; i++) await request(state, i)
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const nodeMs = (cpuSeconds(nodePids()) - nodeCpu) * 1000 / count
  const dbMs = (cpuSeconds(dbPids) - dbCpu) * 1000 / count
  const s = read()
  const per = n => (n / count).toFixed(2)
  console.log(`| ${title} | ${per(s.calls)} | ${per(s.reads)} | ${per(s.writes)} | ${per(s.written)} | ${(s.ms / count).toFixed(2)} | ${dbMs.toFixed(2)} | ${nodeMs.toFixed(1)} | ${(seconds * 1000 / count).toFixed(1)} |`)
  details.push(`\n${title}: statements per request (calls / ${count}), most frequent first\n\n` + psql(`SELECT round(sum(calls)::numeric / ${count}, 2), left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND query NOT ILIKE '%pg_stat%' GROUP BY 2 ORDER BY 1 DESC LIMIT 12`).split('\n').map(line => '    ' + line.replace('\t', '  ')).join('\n'))
}

const details = []

async function main () {
  const url = new URL(process.env.BENCH_URL || '')
  if (!/^(127\.\d+\.\d+\.\d+|localhost)$/.test(url.hostname)) throw new Error('BENCH_URL must be a loopback address')
  const count = Number(process.env.DBWORK_COUNT || 200)
  const seed = JSON.parse(fs.readFileSync(process.env.BENCH_SEED || path.join(__dirname, 'seed.json'), 'utf8'))
  const client = id => seed.Clients.find(c => c.ClientId === id)
  const worker = client('bench-worker'); const web = client('bench-web'); const api = client('orders-api')
  const user = seed.Users[0]
  const oidc = new OidcClient(url.origin)
  const ok = (response, what) => {
    if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status} ${response.text.slice(0, 200)}`)
    return response
  }

  console.log(`Per request, ${count} requests of each kind one after another (sign-ins: ${Math.max(1, Math.floor(count / 4))}), through ${url.origin}.`)
  console.log('')
  console.log('| request | statements | of them SELECT | INSERT/UPDATE/DELETE | rows written | DB execution ms | PostgreSQL CPU ms | node CPU ms | wall ms |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  await measure('sign-in + code flow (new browser: sign-in page, POST, authorize, token)', Math.max(1, Math.floor(count / 4)),
    async () => null,
    async () => oidc.codeFlow({ jar: new CookieJar(), client: web, user, redirectUri: REDIRECT_URI, scope: 'openid offline_access orders' }))
  await measure('client_credentials token', count, async () => null,
    async () => ok(await oidc.clientCredentials(worker, 'orders'), 'client_credentials'))
  await measure('refresh_token (rotation)', count,
    async () => ({ token: (await oidc.codeFlow({ jar: new CookieJar(), client: web, user, redirectUri: REDIRECT_URI, scope: 'openid offline_access orders' })).refresh_token }),
    async state => { state.token = ok(await oidc.refresh(web, state.token), 'refresh').json.refresh_token })
  await measure('introspection (JWT access token)', count,
    async () => ({ token: ok(await oidc.clientCredentials(worker, 'orders'), 'token').json.access_token }),
    async state => { if (ok(await oidc.introspect(api, state.token), 'introspect').json.active !== true) throw new Error('inactive') })
  console.log('\n## Statements behind each row')
  console.log(details.join('\n'))
}

main().catch(error => { console.error(error); process.exit(1) })
