/**
 * Plausible chat text. Each chat follows a topic of its department (a sizing question in Sales, a
 * lost parcel in Support, a double charge in Billing) through a short script: the visitor's
 * question, the agent asking for details, the answer, follow-ups and goodbyes. The text is only
 * meant to read naturally in exported histories; nothing parses it.
 * @module
 */
import type { TopicFamily } from './directory.js'
import type { Rng } from './rng.js'
import type { Catalogue } from './visitors.js'

interface TopicSpec {
  key: string
  tags: readonly string[]
  openers: readonly string[]
  asks: readonly string[]
  details: readonly string[]
  answers: readonly string[]
  followUps: readonly string[]
  followUpAnswers: readonly string[]
}

const TOPICS: Record<TopicFamily, readonly TopicSpec[]> = {
  sales: [
    {
      key: 'availability',
      tags: ['sales', 'stock'],
      openers: [
        'Hi, is the {product} available in {color}?',
        'Hello! Do you have the {product} in stock?',
        'hi there, when will the {product} be back in stock?',
      ],
      asks: ['Happy to check! How many would you need?', 'Sure, which size are you after?'],
      details: ['Just one for now', 'Probably {n}, for our office', 'Medium please'],
      answers: [
        'Good news, we have {n} left in {color} and it ships within 24 hours.',
        "It's back in stock on the {day}, I can reserve one for you if you like.",
      ],
      followUps: ['Great, is shipping free?', 'Can I pick it up in store instead?'],
      followUpAnswers: [
        'Shipping is free on orders over $50.',
        'Yes, in-store pickup is available at checkout.',
      ],
    },
    {
      key: 'pricing',
      tags: ['sales', 'pricing'],
      openers: [
        "What's the difference between the Basic and Pro plans?",
        'Do you offer discounts for bulk orders?',
        'Hi, is there a student discount?',
      ],
      asks: [
        'Great question! Is this for personal use or for a team?',
        'Sure! Roughly how many units are you looking at?',
      ],
      details: ['For a team of {n}', 'Just for me', 'Around {n} units'],
      answers: [
        'For {n} or more units we offer 15% off, applied automatically at checkout.',
        'Pro adds priority support and unlimited projects; you can switch at any time.',
      ],
      followUps: ['Can I pay by invoice?', 'Is there a free trial?'],
      followUpAnswers: [
        'Yes, invoicing is available for orders over $500.',
        'There is a 14-day free trial, no card needed.',
      ],
    },
    {
      key: 'shipping',
      tags: ['sales', 'shipping'],
      openers: ['Do you ship to {country}?', 'How long does delivery take to {country}?'],
      asks: ['We do! Which item are you interested in?', 'Sure, what would you like to order?'],
      details: ['The {product}', 'A couple of {product}s'],
      answers: [
        'Delivery to {country} usually takes {n} business days.',
        'We ship there with express delivery, {n} business days, tracking included.',
      ],
      followUps: ['Are there customs fees?', 'Can I change the address after ordering?'],
      followUpAnswers: [
        'Duties are included in the price, nothing extra on delivery.',
        'Yes, as long as the order has not shipped yet.',
      ],
    },
  ],
  support: [
    {
      key: 'order_status',
      tags: ['order_status'],
      openers: [
        "My order #{order} hasn't arrived yet",
        'Hi, where is my parcel? Order {order}',
        'hello, the tracking for order #{order} has not moved in days',
      ],
      asks: [
        'Sorry about that! Let me check, could you confirm the email on the order?',
        'I can look into it, what is the email address you ordered with?',
      ],
      details: ['{email}', 'It should be {email}'],
      answers: [
        'Thanks! Order #{order} left our warehouse yesterday, it should arrive within {n} days.',
        'I can see the carrier had a delay; I have asked them to prioritise your parcel.',
      ],
      followUps: ['Can I get the tracking link?', 'What if it does not arrive by Friday?'],
      followUpAnswers: [
        'I have just emailed you the tracking link.',
        'If it is not there by Friday we will send a replacement right away.',
      ],
    },
    {
      key: 'login',
      tags: ['login', 'account'],
      openers: [
        "I can't log in to my account",
        'The password reset email never arrives',
        'It says my account is locked?',
      ],
      asks: [
        'Sorry to hear that! What email address do you use to sign in?',
        'Let me help, which email is the account under?',
      ],
      details: ['{email}', 'I use {email}'],
      answers: [
        'I have unlocked the account and sent a fresh reset link, it may take a minute.',
        'Could you check your spam folder? I can see the email was delivered a moment ago.',
      ],
      followUps: ['Got it, thanks. Do I need to log out on my phone too?', 'It worked!'],
      followUpAnswers: [
        'No, the app will ask you to sign in again automatically.',
        'Great to hear!',
      ],
    },
    {
      key: 'product_issue',
      tags: ['bug', 'product_issue'],
      openers: [
        'The {product} I received is damaged',
        'My {product} stopped working after a week',
        'The app keeps crashing when I open settings',
      ],
      asks: [
        "I'm sorry! Could you describe what happens exactly?",
        'Oh no. Could you send a photo or tell me a bit more?',
      ],
      details: ['It just does not turn on anymore', 'The box was crushed and one part is broken'],
      answers: [
        "I've arranged a free replacement, you will get a return label by email.",
        'That is covered by the warranty; I have started a replacement for you.',
      ],
      followUps: ['Do I need to send the old one back?', 'How long will the replacement take?'],
      followUpAnswers: [
        'Yes, just use the prepaid label within 30 days.',
        'It ships today, so {n} business days.',
      ],
    },
  ],
  billing: [
    {
      key: 'double_charge',
      tags: ['billing', 'double_charge'],
      openers: [
        'I was charged twice for order #{order}',
        'hi, there are two payments on my card for the same order',
      ],
      asks: [
        'Sorry about that! Could you confirm the last 4 digits of the card?',
        'Let me look, what email is the order under?',
      ],
      details: ['{n}{n}{n}{n}', 'It is {email}'],
      answers: [
        'I can see the duplicate; I have refunded it, it takes {n} business days to show.',
        'The second charge is a pre-authorisation and will drop off within {n} days.',
      ],
      followUps: ['Will I get a confirmation?', 'Ok. Can you email me that?'],
      followUpAnswers: [
        'Yes, a refund confirmation is on its way to your inbox.',
        'Done, you should have it now.',
      ],
    },
    {
      key: 'invoice',
      tags: ['billing', 'invoice'],
      openers: [
        'Can I get an invoice with my company name on it?',
        'I need a VAT invoice for order #{order}',
      ],
      asks: ['Of course! What company name and address should it show?'],
      details: ['{company}, {n} Main Street', 'Please use {company}'],
      answers: ['Done, the updated invoice is in your account under Orders.'],
      followUps: ['Can you add our VAT number too?', 'Thanks, and for older orders?'],
      followUpAnswers: [
        'Added, the invoice has been regenerated.',
        'Yes, all invoices now use the company details.',
      ],
    },
    {
      key: 'refund',
      tags: ['billing', 'refund'],
      openers: ['When will my refund arrive?', 'I returned the {product}, where is my money?'],
      asks: ['Let me check, what is the order number?', 'Could you share your order number?'],
      details: ['#{order}', "It's {order}"],
      answers: [
        'The return was received and the refund was issued today, {n} business days to appear.',
        'The refund went out on Monday; banks take {n} business days.',
      ],
      followUps: ['Will it go to the same card?', 'Can I get store credit instead?'],
      followUpAnswers: [
        'Yes, to the original payment method.',
        'Sure, I have converted it to store credit with 10% extra.',
      ],
    },
  ],
}

const COUNTRIES = ['Canada', 'Australia', 'Germany', 'the UK', 'Ireland', 'New Zealand', 'France']
const COMPANIES = ['Acme Ltd', 'Northwind Traders', 'Globex GmbH', 'Initech', 'Umbrella BV']

/** One chat's topic with the values its templates fill in. */
export interface ConversationTopic {
  family: TopicFamily
  key: string
  tags: readonly string[]
  spec: TopicSpec
  vars: Record<string, string>
}

/** Writes the lines of simulated conversations; every choice is drawn from `rng`. */
export class TextGenerator {
  constructor(
    private readonly rng: Rng,
    private readonly catalogue: Catalogue,
  ) {}

  /** Picks a topic of the family and the values (product, order number…) the chat talks about. */
  topic(family: TopicFamily, email: string, product: string | null): ConversationTopic {
    const spec = this.rng.pick(TOPICS[family])
    const vars: Record<string, string> = {
      product: product ?? this.rng.pick(this.catalogue.products),
      color: this.rng.pick(this.catalogue.colors),
      order: this.rng.digits(6),
      email: email === '' ? 'the one I signed up with' : email,
      country: this.rng.pick(COUNTRIES),
      company: this.rng.pick(COMPANIES),
      day: this.rng.pick(['12th', '15th', '20th', '28th']),
      n: String(this.rng.int(2, 7)),
    }
    return { family, key: spec.key, tags: spec.tags, spec, vars }
  }

  private fill(template: string, topic: ConversationTopic): string {
    return template.replace(/\{(\w+)\}/g, (_, name: string) => topic.vars[name] ?? name)
  }

  private line(options: readonly string[], topic: ConversationTopic): string {
    return this.fill(this.rng.pick(options), topic)
  }

  /** The visitor's first message: the question. */
  opener(topic: ConversationTopic): string {
    return this.line(topic.spec.openers, topic)
  }

  /** The agent's first message after joining. */
  greeting(topic: ConversationTopic, agentFirstName: string, visitorFirstName: string | null) {
    const hi = visitorFirstName === null ? 'Hi' : `Hi ${visitorFirstName}`
    const intro = this.rng.pick([
      `${hi}, this is ${agentFirstName}, thanks for waiting!`,
      `${hi}! ${agentFirstName} here.`,
      `${hi}, my name is ${agentFirstName}.`,
    ])
    return `${intro} ${this.line(topic.spec.asks, topic)}`
  }

  /** The agent asking for details (in a proactive chat, after the visitor's question). */
  ask(topic: ConversationTopic): string {
    return this.line(topic.spec.asks, topic)
  }

  /**
   * The agent's message for exchange `turn` (0 = the question asked in the greeting was
   * answered): answer first, then follow-up answers, then generic wrap-up lines.
   */
  agentReply(topic: ConversationTopic, turn: number): { msg: string; options: string } {
    if (turn === 0) return { msg: this.line(topic.spec.answers, topic), options: '' }
    if (turn === 1) return { msg: this.line(topic.spec.followUpAnswers, topic), options: '' }
    if (this.rng.chance(0.3)) {
      return { msg: 'Did that solve your problem?', options: 'Yes/No' }
    }
    return {
      msg: this.rng.pick([
        'Let me double-check that for you.',
        'One moment please, I am looking into it.',
        'Sure, I have updated that for you.',
        'No problem at all.',
      ]),
      options: '',
    }
  }

  /** The visitor's message for exchange `turn` (0 = the details the agent asked for). */
  visitorReply(topic: ConversationTopic, turn: number): string {
    if (turn === 0) return this.line(topic.spec.details, topic)
    if (turn === 1) return this.line(topic.spec.followUps, topic)
    return this.rng.pick([
      'ok',
      'Yes',
      'Thanks',
      'one more thing, is that final?',
      'I see',
      'Great',
    ])
  }

  /** While waiting in the queue. */
  nudge(): string {
    return this.rng.pick(['Hello?', 'Is anyone there?', 'hi?', 'Still waiting...'])
  }

  visitorThanks(): string {
    return this.rng.pick(['Thanks, that is all!', 'Perfect, thank you', 'thx', 'Great, bye!'])
  }

  agentClosing(): string {
    return this.rng.pick([
      "You're welcome! Have a great day.",
      'Glad I could help. Take care!',
      'Anything else I can help with? Otherwise, have a lovely day!',
    ])
  }

  transferNotice(departmentName: string): string {
    return `Let me transfer you to our ${departmentName} team, they can help with this. One moment please.`
  }

  transferGreeting(agentFirstName: string, departmentName: string): string {
    return `Hi, ${agentFirstName} from ${departmentName} here. I have read the conversation, give me a second.`
  }

  /** The agent's message opening a proactive chat. */
  invitation(product: string): string {
    return this.rng.pick([
      `Hi! I see you're looking at the ${product}. Any questions I can help with?`,
      'Hello, welcome back! Can I help you find anything?',
      `Hi there, the ${product} is 10% off today. Happy to answer any questions!`,
    ])
  }

  /** What a visitor answers to an invitation. */
  invitationReply(topic: ConversationTopic): string {
    return this.opener(topic)
  }

  /** The text of an offline message. */
  offlineMessage(topic: ConversationTopic): string {
    const tail = this.rng.pick([
      ' Please get back to me by email.',
      ' Thanks!',
      ' Could someone call me back?',
      '',
    ])
    return `${this.opener(topic)}${tail}`
  }

  /** A post-chat comment that agrees with the rating. */
  comment(good: boolean): string {
    return good
      ? this.rng.pick([
          'Very helpful, thank you!',
          'Quick and friendly.',
          'Great service',
          'Solved my problem in minutes.',
        ])
      : this.rng.pick([
          'Took too long to get an answer.',
          'Did not solve my problem.',
          'I was transferred and had to explain everything again.',
          'Nobody answered',
        ])
  }
}
