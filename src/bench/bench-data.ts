/**
 * Synthetic chats for benchmarks: shaped like the reference document's example (history, engagements,
 * session, webpath...), about 3.5 KB each like real exports, with seeded variety.
 * @module
 */
import { seededRandom } from '../domain/clock.js'
import { formatIso } from '../domain/time.js'

const BASE_CHAT = {
  abandon_time: null,
  agent_ids: ['383486450414'],
  agent_names: ['David Foo'],
  comment: null,
  conversions: [],
  count: { agent: 1, total: 2, visitor: 1 },
  deleted: false,
  department_id: null,
  department_name: null,
  dropped: false,
  duration: 12,
  missed: false,
  proactive: true,
  rating: null,
  referrer_search_engine: '',
  referrer_search_terms: '',
  response_time: { avg: 3, first: 3, max: 3 },
  skills_fulfilled: false,
  skills_requested: [],
  started_by: 'agent',
  tags: [],
  triggered: false,
  triggered_response: null,
  type: 'chat',
  unread: false,
  zendesk_ticket_id: 83,
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** `count` chats with update times spread before `endMicros`, in JSON-lines-ready objects. */
export function syntheticChats(count: number, endMicros: number, seed = 1): object[] {
  const random = seededRandom(seed)
  const pick = (n: number) =>
    Array.from({ length: n }, () => ALPHABET[Math.floor(random.next() * ALPHABET.length)]).join('')
  const chats: object[] = []
  const start = endMicros - count * 2_000_000
  for (let i = 0; i < count; i++) {
    const t = start + i * 2_000_000
    const id = `2012.9339545.${pick(13)}`
    const events = 3 + Math.floor(random.next() * 7)
    const history = Array.from({ length: events }, (_, index) => ({
      channel: '#supportchat:9339545-11mjg3Gvk0uhEiK',
      index,
      msg: pick(40 + Math.floor(random.next() * 200)),
      msg_id: String(1608612869871 + index),
      name: index % 2 ? 'David Foo' : 'Visitor 25396546',
      options: '',
      sender_type: index % 2 ? 'Agent' : 'Visitor',
      timestamp: formatIso(t + index * 1_000_000 - (t % 1_000_000)),
      type: 'chat.msg',
    }))
    chats.push({
      ...BASE_CHAT,
      id,
      end_timestamp: formatIso(t - (t % 1_000_000) + 60_000_000),
      engagements: [
        {
          accepted: true,
          agent_full_name: 'David Foo',
          agent_id: '383486450414',
          agent_name: 'David Foo',
          assigned: true,
          comment: null,
          count: { agent: 1, total: 2, visitor: 1 },
          department_id: null,
          duration: 43.4449999332428,
          id: `${id}.1`,
          rating: null,
          response_time: { avg: 3, first: 3, max: 3 },
          skills_fulfilled: false,
          skills_requested: [],
          started_by: 'agent',
          timestamp: formatIso(t - (t % 1_000_000)),
        },
      ],
      history,
      session: {
        browser: 'Chrome',
        city: 'Sydney',
        country_code: 'AU',
        country_name: 'Australia',
        end_date: formatIso(t - (t % 1_000_000) + 60_000_000),
        id: `201222.9339545.${pick(17)}`,
        ip: '13.55.49.175',
        platform: 'Mac OS',
        region: 'New South Wales',
        start_date: formatIso(t - (t % 1_000_000)),
        user_agent:
          'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36',
      },
      timestamp: formatIso(t - (t % 1_000_000)),
      update_timestamp: formatIso(t),
      visitor: {
        email: '',
        id: `9339545.${pick(15)}`,
        name: 'Visitor 25396546',
        notes: '',
        phone: '',
      },
      webpath: [
        {
          from: '',
          timestamp: formatIso(t - (t % 1_000_000)),
          title: 'Zendesk',
          to: 'https://subdomain.zendesk.com/hc/en-us',
        },
      ],
    })
  }
  return chats
}
