'use strict'
// Helpers shared by the load scripts (bench.js, floor/floor.js): settings from the environment,
// form bodies, what a run saw besides autocannon's counters, and the pause between runs.

const autocannon = require('autocannon')
const { snippet } = require('./oidc')

function logger (name) {
  return message => process.stderr.write(`[${name} ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

function integerSetting (name, fallback, min, max) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, not '${raw}'`)
  }
  return value
}

function form (fields) {
  return new URLSearchParams(fields).toString()
}

// What a run saw besides the autocannon counters: failed response checks, non-2xx and error samples.
class Observations {
  constructor (exampleLength = 400) {
    this.failedChecks = 0
    this.samples = new Map()
    this.exampleLength = exampleLength
  }

  note (key, example) {
    const entry = this.samples.get(key)
    if (entry) {
      entry.count++
    } else {
      this.samples.set(key, { count: 1, example: snippet(example, this.exampleLength) })
    }
  }

  // Records a response that is not what the scenario expects; returns false for convenience.
  reject (status, body, reason) {
    if (status >= 200 && status < 300) this.failedChecks++
    let error = ''
    try {
      error = JSON.parse(body).error || ''
    } catch {
      // the body is kept as the example
    }
    this.note(`HTTP ${status}${error ? ` ${error}` : ''}${reason ? ` (${reason})` : ''}`, body)
    return false
  }
}

// Runs autocannon with these options; request errors are noted in the observations.
function runAutocannon (options, observations) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)))
    instance.on('reqError', error => observations.note(`request error: ${error.code || error.message}`, error.message))
  })
}

// autocannon stops by closing its connections; the server may still be working on the requests
// that were in flight. Give it a moment so that they do not eat into the next run.
function settle () {
  return new Promise(resolve => setTimeout(resolve, 1000))
}

module.exports = { logger, integerSetting, form, Observations, runAutocannon, settle }
