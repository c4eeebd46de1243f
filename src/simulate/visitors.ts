/**
 * Simulated website visitors: identities (anonymous "Visitor 25396546" or a name and email from the
 * pre-chat form), sessions with a coherent browser / platform / user agent and location, and the
 * webpath they browsed before chatting. Names, cities and IPs come from a seeded faker; browsers
 * come from a fixed table because faker's user agents include bots and mismatched platforms.
 * @module
 */
import type { Faker } from '@faker-js/faker'
import { seededFaker } from './seeded-faker.js'
import type { EventOf } from '../domain/events.js'
import { formatIso, type Micros } from '../domain/time.js'
import type { Directory } from './directory.js'
import { newSessionId, newVisitorId } from './ids.js'
import { Rng, deriveSeed } from './rng.js'

export type Visitor = EventOf<'chat.started'>['visitor']
export type Session = EventOf<'chat.started'>['session']
export type WebpathEntry = EventOf<'chat.started'>['webpath'][number]

interface Location {
  city: string
  region: string
  countryCode: string
  countryName: string
}

interface Device {
  browser: string
  platform: string
  userAgent: string
}

/** A visitor plus what stays the same across their sessions (location, device). */
export interface VisitorIdentity {
  visitor: Visitor
  /** First name when the visitor gave one, for greetings. */
  firstName: string | null
  location: Location
  ip: string
  device: Device
}

/** Where a visit came from, for the chat's referrer fields. */
export interface Referral {
  searchEngine: string
  searchTerms: string
}

const CITIES: readonly Location[] = [
  { city: 'Sydney', region: 'New South Wales', countryCode: 'AU', countryName: 'Australia' },
  { city: 'Melbourne', region: 'Victoria', countryCode: 'AU', countryName: 'Australia' },
  { city: 'London', region: 'England', countryCode: 'GB', countryName: 'United Kingdom' },
  { city: 'Manchester', region: 'England', countryCode: 'GB', countryName: 'United Kingdom' },
  { city: 'Toronto', region: 'Ontario', countryCode: 'CA', countryName: 'Canada' },
  { city: 'Vancouver', region: 'British Columbia', countryCode: 'CA', countryName: 'Canada' },
  { city: 'Berlin', region: 'Berlin', countryCode: 'DE', countryName: 'Germany' },
  { city: 'Munich', region: 'Bavaria', countryCode: 'DE', countryName: 'Germany' },
  { city: 'Paris', region: 'Île-de-France', countryCode: 'FR', countryName: 'France' },
  { city: 'Amsterdam', region: 'North Holland', countryCode: 'NL', countryName: 'Netherlands' },
  { city: 'Dublin', region: 'Leinster', countryCode: 'IE', countryName: 'Ireland' },
  { city: 'Auckland', region: 'Auckland', countryCode: 'NZ', countryName: 'New Zealand' },
  { city: 'Singapore', region: 'Singapore', countryCode: 'SG', countryName: 'Singapore' },
  { city: 'Mumbai', region: 'Maharashtra', countryCode: 'IN', countryName: 'India' },
  { city: 'São Paulo', region: 'São Paulo', countryCode: 'BR', countryName: 'Brazil' },
  { city: 'Mexico City', region: 'Mexico City', countryCode: 'MX', countryName: 'Mexico' },
]

const ANDROID_MODELS = ['SM-G991B', 'SM-A525F', 'Pixel 7', 'Pixel 8 Pro', 'SM-S918B', 'moto g(60)']

/** The product catalogue of the simulated shop, shared by webpaths and message texts. */
export interface Catalogue {
  products: readonly string[]
  colors: readonly string[]
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
}

/** Creates visitors, sessions and webpaths for one run; deterministic for a given seed. */
export class VisitorFactory {
  readonly catalogue: Catalogue
  private readonly faker: Faker
  private readonly rng: Rng

  constructor(
    private readonly directory: Directory,
    seed: number,
  ) {
    this.rng = new Rng(deriveSeed(seed, 'visitors'))
    this.faker = seededFaker(deriveSeed(seed, 'visitor-faker'))
    // The catalogue depends on the directory's seed only, so the shop sells the same things daily.
    const shop = seededFaker(deriveSeed(directory.seed, 'catalogue'))
    const products = new Set<string>()
    while (products.size < 24) products.add(shop.commerce.productName())
    const colors = new Set<string>()
    while (colors.size < 8) colors.add(shop.color.human())
    this.catalogue = { products: [...products], colors: [...colors] }
  }

  /** A new visitor. `named`: they filled in the pre-chat form (or the offline form). */
  newVisitor(named: boolean): VisitorIdentity {
    const { rng, faker } = this
    const id = newVisitorId(rng, this.directory.accountNumber)
    let visitor: Visitor
    let firstName: string | null = null
    if (named) {
      firstName = faker.person.firstName()
      const lastName = faker.person.lastName()
      visitor = {
        id,
        name: `${firstName} ${lastName}`,
        email: faker.internet.email({ firstName, lastName }).toLowerCase(),
        phone: rng.chance(0.3) ? faker.phone.number({ style: 'international' }) : '',
        notes: '',
      }
    } else {
      visitor = { id, name: `Visitor ${rng.digits(8)}`, email: '', phone: '', notes: '' }
    }
    const location: Location = rng.chance(0.55)
      ? {
          city: faker.location.city(),
          region: faker.location.state(),
          countryCode: 'US',
          countryName: 'United States',
        }
      : rng.pick(CITIES)
    return { visitor, firstName, location, ip: faker.internet.ipv4(), device: this.device() }
  }

  /** Gives an anonymous visitor the name and email they typed into a form. */
  identify(identity: VisitorIdentity): void {
    if (identity.firstName !== null) return
    const firstName = this.faker.person.firstName()
    const lastName = this.faker.person.lastName()
    identity.firstName = firstName
    identity.visitor = {
      ...identity.visitor,
      name: `${firstName} ${lastName}`,
      email: this.faker.internet.email({ firstName, lastName }).toLowerCase(),
    }
  }

  /** A session that started at `startedAt` (the visitor's arrival on the site). */
  session(identity: VisitorIdentity, startedAt: Micros): Session {
    return {
      id: newSessionId(this.rng, this.directory.accountNumber, startedAt),
      browser: identity.device.browser,
      city: identity.location.city,
      country_code: identity.location.countryCode,
      country_name: identity.location.countryName,
      region: identity.location.region,
      platform: identity.device.platform,
      ip: identity.ip,
      user_agent: identity.device.userAgent,
      start_date: formatIso(startedAt),
    }
  }

  /** How the visitor found the site: a search engine a quarter of the time, else direct. */
  referral(): Referral {
    if (!this.rng.chance(0.25)) return { searchEngine: '', searchTerms: '' }
    const product = this.rng.pick(this.catalogue.products).toLowerCase()
    return {
      searchEngine: this.rng.weighted([
        ['Google', 8],
        ['Bing', 1],
        ['DuckDuckGo', 1],
      ]),
      searchTerms: this.rng.chance(0.5) ? product : `buy ${product}`,
    }
  }

  /**
   * The pages browsed between `from` and `until` (1–5 pages, increasing timestamps, each entry's
   * `from` the previous page). `focus` is the product the visit is about, if any.
   */
  webpath(from: Micros, until: Micros, referral: Referral, focus: string | null): WebpathEntry[] {
    const { rng } = this
    const site = this.directory.siteUrl
    const pages: { url: string; title: string }[] = [{ url: `${site}/`, title: 'Home' }]
    const count = rng.int(1, 5)
    while (pages.length < count) {
      const product = focus ?? rng.pick(this.catalogue.products)
      pages.push(
        rng.weighted([
          [{ url: `${site}/products/${slug(product)}`, title: product }, 5],
          [{ url: `${site}/pricing`, title: 'Pricing' }, 2],
          [{ url: `${site}/cart`, title: 'Your cart' }, 2],
          [{ url: `${site}/help/shipping`, title: 'Shipping & delivery' }, 1],
          [{ url: `${site}/account/orders`, title: 'My orders' }, 1],
        ]),
      )
    }
    const span = Math.max(0, until - from)
    const entries: WebpathEntry[] = []
    let previous = referral.searchEngine === '' ? '' : 'https://www.google.com/'
    for (const [i, page] of pages.entries()) {
      // Evenly spread, aligned to whole milliseconds like the widget's clock.
      const at = from + Math.floor((span * i) / pages.length / 1000) * 1000
      entries.push({ from: previous, to: page.url, title: page.title, timestamp: formatIso(at) })
      previous = page.url
    }
    return entries
  }

  private device(): Device {
    const { rng } = this
    const chrome = `${rng.int(118, 131)}.0.${rng.int(5000, 6800)}.${rng.int(10, 200)}`
    const kind = rng.weighted([
      ['chrome-win', 30],
      ['chrome-mac', 14],
      ['safari-mac', 8],
      ['safari-ios', 20],
      ['chrome-android', 16],
      ['firefox-win', 6],
      ['edge-win', 6],
    ] as const)
    switch (kind) {
      case 'chrome-win':
        return {
          browser: 'Chrome',
          platform: 'Windows',
          userAgent: `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome} Safari/537.36`,
        }
      case 'chrome-mac':
        return {
          browser: 'Chrome',
          platform: 'Mac OS',
          userAgent: `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome} Safari/537.36`,
        }
      case 'safari-mac': {
        const v = `${rng.int(15, 17)}.${rng.int(0, 6)}`
        return {
          browser: 'Safari',
          platform: 'Mac OS',
          userAgent: `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${v} Safari/605.1.15`,
        }
      }
      case 'safari-ios': {
        const major = rng.int(15, 17)
        const minor = rng.int(0, 6)
        return {
          browser: 'Mobile Safari',
          platform: 'iOS',
          userAgent: `Mozilla/5.0 (iPhone; CPU iPhone OS ${major}_${minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${major}.${minor} Mobile/15E148 Safari/604.1`,
        }
      }
      case 'chrome-android':
        return {
          browser: 'Chrome Mobile',
          platform: 'Android',
          userAgent: `Mozilla/5.0 (Linux; Android ${rng.int(11, 14)}; ${rng.pick(ANDROID_MODELS)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome} Mobile Safari/537.36`,
        }
      case 'firefox-win': {
        const v = rng.int(115, 132)
        return {
          browser: 'Firefox',
          platform: 'Windows',
          userAgent: `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`,
        }
      }
      case 'edge-win':
        return {
          browser: 'Edge',
          platform: 'Windows',
          userAgent: `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome} Safari/537.36 Edg/${chrome}`,
        }
    }
  }
}
