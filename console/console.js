// The chat-export console: reads aggregates from the admin API and draws them with Apache ECharts.
// Plain browser JavaScript, no build step; served by src/http/console-routes.ts.
'use strict'

const API = '/api/chat-export/v1/admin'
const STATUS_COLOURS = {
  online: '#2e9e5b',
  away: '#e6a23c',
  invisible: '#9aa3b5',
  offline: '#d9dde5',
}
const state = {
  token: '',
  account: '',
  charts: {},
  tailAfter: undefined,
  source: undefined,
  timers: [],
}

const $ = (id) => document.getElementById(id)
const echartsLoaded = new Promise((resolve) => window.addEventListener('DOMContentLoaded', resolve))
const say = (text) => ($('status').textContent = text)

async function api(path, init = {}) {
  const res = await fetch(API + path, {
    ...init,
    headers: {
      authorization: `Bearer ${state.token}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
  })
  const body = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(body.description || `${res.status} ${res.statusText}`)
  return body
}

const accountPath = (rest) => `/accounts/${encodeURIComponent(state.account)}${rest}`

function chart(name) {
  if (!state.charts[name]) state.charts[name] = echarts.init($(`chart-${name}`))
  return state.charts[name]
}

/** Marks a chart container with how many points it shows (the e2e test reads it). */
function filled(name, points) {
  $(`chart-${name}`).dataset.points = String(points)
}

function fmtAge(seconds) {
  if (seconds === null) return '—'
  if (seconds < 120) return `${seconds} s ago`
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`
  return `${Math.round(seconds / 3600)} h ago`
}

function drawStreams(stats) {
  const body = $('streams').querySelector('tbody')
  body.replaceChildren(
    ...stats.streams.map((s) => {
      const tr = document.createElement('tr')
      for (const v of [s.stream, s.count, s.newest ?? '—', fmtAge(s.freshnessSeconds)]) {
        const td = document.createElement('td')
        td.textContent = String(v)
        tr.append(td)
      }
      return tr
    }),
  )
  chart('streams').setOption({
    animation: false,
    grid: { left: 110, right: 20, top: 5, bottom: 20 },
    xAxis: { type: 'value' },
    yAxis: { type: 'category', data: stats.streams.map((s) => s.stream) },
    tooltip: {},
    series: [
      { type: 'bar', data: stats.streams.map((s) => s.count), itemStyle: { color: '#4a6fd1' } },
    ],
  })
  filled('streams', stats.streams.filter((s) => s.count > 0).length)
}

function drawHours(stats) {
  const hours = stats.hours.map((h) => h.hour.slice(5, 13).replace('T', ' ') + 'h')
  const kinds = [
    ['served', '#2e9e5b'],
    ['missed', '#d64545'],
    ['dropped', '#e6a23c'],
    ['offline', '#7a869a'],
  ]
  chart('hours').setOption({
    animation: false,
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    grid: { left: 40, right: 10, top: 30, bottom: 40 },
    xAxis: { type: 'category', data: hours },
    yAxis: { type: 'value' },
    series: kinds.map(([k, colour]) => ({
      name: k,
      type: 'bar',
      stack: 'chats',
      itemStyle: { color: colour },
      data: stats.hours.map((h) => h[k]),
    })),
  })
  filled(
    'hours',
    stats.hours.reduce((n, h) => n + h.served + h.missed + h.dropped + h.offline, 0),
  )
  chart('response').setOption({
    animation: false,
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    grid: { left: 40, right: 10, top: 30, bottom: 40 },
    xAxis: { type: 'category', data: hours },
    yAxis: { type: 'value', name: 's' },
    series: ['p50', 'p90', 'p99'].map((p) => ({
      name: p,
      type: 'line',
      connectNulls: true,
      showSymbol: false,
      data: stats.hours.map((h) => h[p]),
    })),
  })
  filled('response', stats.hours.filter((h) => h.p50 !== null).length)
}

function drawAgents(stats) {
  const agents = [...new Set(stats.spans.map((s) => s.agentId))].sort((a, b) => a - b)
  const row = new Map(agents.map((a, i) => [a, i]))
  const data = stats.spans.map((s) => ({
    value: [
      row.get(s.agentId),
      s.start * 1000,
      (s.start + s.durationSeconds) * 1000,
      s.engagementCount,
    ],
    name: s.status,
    itemStyle: { color: STATUS_COLOURS[s.status] ?? '#4a6fd1' },
  }))
  const windowStart = Date.parse(stats.generatedAt) - stats.windowHours * 3600_000
  chart('agents').setOption({
    animation: false,
    tooltip: {
      formatter: (p) =>
        `agent ${agents[p.value[0]]}: ${p.name}<br>${new Date(p.value[1]).toISOString()} – ${new Date(p.value[2]).toISOString()}<br>engagements: ${p.value[3]}`,
    },
    grid: { left: 80, right: 20, top: 10, bottom: 30 },
    xAxis: { type: 'time', min: windowStart, max: Date.parse(stats.generatedAt) },
    yAxis: { type: 'category', data: agents.map(String), inverse: true },
    series: [
      {
        // A Gantt chart: ECharts' custom series draws one rectangle per span (its documented way).
        type: 'custom',
        encode: { x: [1, 2], y: 0 },
        data,
        renderItem(params, api) {
          const start = api.coord([api.value(1), api.value(0)])
          const end = api.coord([api.value(2), api.value(0)])
          const height = api.size([0, 1])[1] * 0.7
          const shape = echarts.graphic.clipRectByRect(
            {
              x: start[0],
              y: start[1] - height / 2,
              width: Math.max(1, end[0] - start[0]),
              height,
            },
            {
              x: params.coordSys.x,
              y: params.coordSys.y,
              width: params.coordSys.width,
              height: params.coordSys.height,
            },
          )
          return shape && { type: 'rect', shape, style: api.style() }
        },
      },
    ],
  })
  filled('agents', data.length)
}

function drawQueues(stats) {
  const byDepartment = new Map()
  for (const q of stats.queues) {
    const key = q.departmentId === null ? 'all' : `dept ${q.departmentId}`
    if (!byDepartment.has(key)) byDepartment.set(key, [])
    byDepartment.get(key).push([q.at * 1000, q.incoming])
  }
  chart('queues').setOption(
    {
      animation: false,
      legend: { top: 0, type: 'scroll' },
      tooltip: { trigger: 'axis' },
      grid: { left: 40, right: 10, top: 30, bottom: 30 },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', minInterval: 1 },
      series: [...byDepartment].map(([name, points]) => ({
        name,
        type: 'line',
        step: 'end',
        showSymbol: false,
        data: points,
      })),
    },
    true,
  )
  filled('queues', stats.queues.length)
}

async function refreshStats() {
  const started = performance.now()
  const stats = await api(accountPath(`/stats?window_hours=${$('window').value}`))
  await echartsLoaded
  drawStreams(stats)
  drawHours(stats)
  drawAgents(stats)
  drawQueues(stats)
  document.body.dataset.statsMs = String(Math.round(performance.now() - started))
}

async function refreshTail() {
  const query = state.tailAfter ? `?after=${encodeURIComponent(state.tailAfter)}` : ''
  const tail = await api(accountPath(`/tail${query}`))
  const list = $('tail')
  for (const item of tail.items) {
    if (state.tailAfter && item.position <= state.tailAfter) continue
    const li = document.createElement('li')
    li.textContent = `${item.position}  ${item.id}  ${item.summary}`
    list.prepend(li)
  }
  while (list.children.length > 50) list.lastChild.remove()
  if (tail.items.length > 0) state.tailAfter = tail.items[tail.items.length - 1].position
  list.dataset.updates = String(Number(list.dataset.updates ?? 0) + (tail.items.length > 0 ? 1 : 0))
}

function journalRow(entry) {
  const tr = document.createElement('tr')
  if (entry.fault) tr.className = 'fault'
  const cursor = entry.cursor_after
    ? `${entry.cursor_after.end_time ?? ''} ${entry.cursor_after.end_id ?? ''}`
    : ''
  const cells = [
    entry.at.slice(11, 19),
    entry.method,
    entry.path + (entry.query ? `?${entry.query}` : ''),
    entry.status,
    entry.bytes,
    entry.duration_ms,
    entry.fault ?? '',
    cursor,
  ]
  for (const v of cells) {
    const td = document.createElement('td')
    td.textContent = String(v)
    tr.append(td)
  }
  return tr
}

async function startJournal() {
  const body = $('journal').querySelector('tbody')
  const { requests } = await api(accountPath('/requests?limit=100'))
  body.replaceChildren(...requests.map(journalRow))
  state.source?.close()
  // EventSource sends no headers: the token goes in the query (the journal never records it).
  state.source = new EventSource(
    `${API}${accountPath('/requests/stream')}?access_token=${encodeURIComponent(state.token)}`,
  )
  state.source.addEventListener('request', (event) => {
    body.prepend(journalRow(JSON.parse(event.data)))
    while (body.children.length > 200) body.lastChild.remove()
  })
}

async function refreshFaults() {
  const { faults } = await api(accountPath('/faults'))
  $('faults').replaceChildren(
    ...faults.map((f) => {
      const li = document.createElement('li')
      const trigger =
        f.trigger.type === 'every' ? `every ${f.trigger.k}` : `${f.trigger.type} ${f.trigger.count}`
      li.textContent = `#${f.id} ${f.match.stream ?? 'any'} ${trigger} → ${f.label} (fired ${f.fired}/${f.seen})`
      return li
    }),
  )
}

function faultFromForm() {
  const [kind, arg] = $('fault-kind').value.split(':')
  const n = Number($('fault-n').value)
  const extra = Number($('fault-arg').value)
  const trigger =
    $('fault-trigger').value === 'every'
      ? { type: 'every', k: n }
      : { type: $('fault-trigger').value, count: n }
  let fault
  if (kind === 'status')
    fault = {
      kind,
      status: Number(arg),
      ...(arg === '429' || arg === '503' ? { retry_after: extra } : {}),
    }
  else if (kind === 'latency') fault = { kind, ms: extra }
  else if (kind === 'reset') fault = { kind, when: arg }
  else fault = { kind, damage: arg }
  const stream = $('fault-stream').value
  return { match: stream ? { stream } : {}, trigger, fault }
}

function every(ms, fn) {
  state.timers.push(setInterval(() => fn().catch((e) => say(e.message)), ms))
}

async function open(account) {
  state.account = account
  state.tailAfter = undefined
  $('tail').replaceChildren()
  for (const t of state.timers.splice(0)) clearInterval(t)
  $('main').hidden = false
  await Promise.all([refreshStats(), refreshTail(), startJournal(), refreshFaults()])
  document.body.dataset.readyMs = String(Math.round(performance.now()))
  document.body.dataset.ready = 'true'
  say(`account ${account}`)
  every(2000, refreshTail)
  every(10000, refreshStats)
  every(3000, refreshFaults)
}

async function signIn(event) {
  event?.preventDefault()
  state.token = $('token').value.trim()
  try {
    const { accounts } = await api('/accounts')
    if (accounts.length === 0) return say('no accounts')
    const select = $('account')
    select.replaceChildren(
      ...accounts.map((a) =>
        Object.assign(document.createElement('option'), { value: a.name, textContent: a.name }),
      ),
    )
    select.hidden = accounts.length < 2
    sessionStorage.setItem('chat-export-token', state.token)
    await open((accounts.find((a) => a.name === 'demo') ?? accounts[0]).name)
    select.value = state.account
  } catch (error) {
    say(`sign-in failed: ${error.message}`)
  }
}

// Deferred scripts run once the document is parsed: wire the page now and start reading data
// while ECharts (the next script) is still being parsed; drawing waits for it.
;(() => {
  $('signin').addEventListener('submit', signIn)
  $('account').addEventListener('change', (e) =>
    open(e.target.value).catch((err) => say(err.message)),
  )
  $('window').addEventListener(
    'change',
    () => state.account && refreshStats().catch((e) => say(e.message)),
  )
  $('reset-form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const body = $('reset-seeded').checked
      ? {
          seed: Number($('reset-seed').value),
          days: Number($('reset-days').value),
          arrivals_per_hour: Number($('reset-rate').value),
        }
      : {}
    if (!confirm(`Reset account "${state.account}"${body.seed === undefined ? ' to empty' : ''}?`))
      return
    try {
      const result = await api(accountPath('/reset'), {
        method: 'POST',
        body: JSON.stringify(body),
      })
      say(`reset: ${result.events} events`)
      state.tailAfter = undefined
      $('tail').replaceChildren()
      await refreshStats()
    } catch (error) {
      say(`reset failed: ${error.message}`)
    }
  })
  $('fault-form').addEventListener('submit', async (event) => {
    event.preventDefault()
    try {
      await api(accountPath('/faults'), { method: 'POST', body: JSON.stringify(faultFromForm()) })
      await refreshFaults()
      say('fault added')
    } catch (error) {
      say(`fault refused: ${error.message}`)
    }
  })
  $('fault-clear').addEventListener('click', async () => {
    await api(accountPath('/faults'), { method: 'DELETE' }).catch((e) => say(e.message))
    await refreshFaults()
  })
  window.addEventListener('resize', () => Object.values(state.charts).forEach((c) => c.resize()))
  const saved = sessionStorage.getItem('chat-export-token')
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token')
  if (fromHash || saved) {
    $('token').value = fromHash ?? saved
    history.replaceState(null, '', location.pathname)
    void signIn()
  }
})()
