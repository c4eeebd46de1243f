/**
 * How chats turn out, and what happens after them: ratings (in the chat or in the post-chat
 * survey, some changed later), comments, tags added hours later, deletions, goal conversions after
 * served chats and by visitors who never chatted, and offline messages left when no agent of the
 * department is online. Missed and dropped chats are decided by the queue's and the conversation's
 * patience timers; here they only weigh on the rating.
 * @module
 */
import type { Micros } from '../domain/time.js'
import { nextArrival } from './arrival-curve.js'
import { changeTags } from './chat-events.js'
import { newChatId, newConversionId, newVisitorId, uniqueId } from './ids.js'
import { clamp } from './rng.js'
import type { ChatState, SimulationContext } from './simulation-context.js'
import type { VisitorIdentity } from './visitors.js'

/** The visitor rates the chat; a long wait or an unanswered message makes "bad" likelier. */
export function rate(ctx: SimulationContext, chat: ChatState): void {
  const pBad = 0.12 + (chat.waitedLong ? 0.25 : 0) + (chat.dropped ? 0.4 : 0)
  chat.rating = ctx.rng.chance(pBad) ? 'bad' : 'good'
  ctx.emit('chat.rated', { chat_id: chat.id, rating: chat.rating })
}

/**
 * Nobody is left in the chat: `chat.ended`, then the changes that may follow an ended chat
 * (survey rating, comment, rating change, late tag, deletion, conversions). Only those event
 * kinds come after `chat.ended`, and nothing after `chat.deleted`.
 */
export function endChat(ctx: SimulationContext, chat: ChatState): void {
  chat.phase = 'ended'
  chat.token++
  ctx.busyVisitors.delete(chat.identity.visitor.id)
  ctx.emit('chat.ended', { chat_id: chat.id })
  const served = chat.servedBy.length > 0 && chat.turn > 0
  const lastAgent = chat.servedBy[chat.servedBy.length - 1]

  if (served && !chat.ratedInChat && ctx.rng.chance(ctx.rates.ratingShare * 0.6)) {
    // The post-chat survey.
    ctx.after(ctx.rng.uniform(3, 90), 'chat', () => {
      if (!chat.deleted) rate(ctx, chat)
    })
  }
  if (served) {
    ctx.after(ctx.rng.uniform(100, 200), 'chat', () => {
      if (chat.deleted || chat.rating === null) return
      if (ctx.rng.chance(ctx.rates.commentShare)) {
        ctx.emit('chat.commented', {
          chat_id: chat.id,
          comment: ctx.text.comment(chat.rating === 'good'),
        })
      }
      if (ctx.rng.chance(ctx.rates.ratingChangeShare)) {
        const changed = chat.rating === 'good' ? 'bad' : 'good'
        ctx.after(ctx.rng.uniform(5, 120) * 60, 'later', () => {
          if (chat.deleted) return
          chat.rating = changed
          ctx.emit('chat.rated', { chat_id: chat.id, rating: changed })
        })
      }
    })
  }
  if (lastAgent !== undefined && ctx.rng.chance(ctx.rates.lateTagShare)) {
    const tag = ctx.rng.pick(['follow_up', 'escalated', 'vip', 'feedback', 'goodbye_survey'])
    ctx.after(ctx.rng.uniform(0.2, 6) * 3600, 'later', () => {
      if (!chat.deleted) changeTags(ctx, chat, lastAgent, [tag])
    })
  }
  if (ctx.rng.chance(ctx.rates.deleteShare)) {
    // Spam and test chats get cleaned up the same day.
    ctx.after(ctx.rng.uniform(0.1, 6) * 3600, 'later', () => {
      if (chat.deleted) return
      chat.deleted = true
      ctx.emit('chat.deleted', { chat_id: chat.id })
    })
  }
  if (served) conversionsAfterChat(ctx, chat)
  // Ended chats are kept only as long as a later change may refer to them; ids only matter
  // while a new id could share their time prefix.
  ctx.after(26 * 3600, 'later', () => {
    ctx.chats.delete(chat.id)
    ctx.chatIds.delete(chat.id)
  })
}

/** Goals reached after a served chat (more after Sales chats), and the goals that follow them. */
function conversionsAfterChat(ctx: SimulationContext, chat: ChatState): void {
  const boost = chat.topic.family === 'sales' ? 1.6 : chat.topic.family === 'billing' ? 0.3 : 1
  const goals = ctx.directory.goals
  for (const goal of goals) {
    if (goal.after !== null) continue
    if (!ctx.rng.chance(Math.min(0.95, goal.afterChatShare * boost))) continue
    const delay = clamp(ctx.rng.logNormal(8 * 60, 1), 20, 6 * 3600)
    ctx.after(delay, 'later', () => {
      convert(ctx, goal.id, chat.identity.visitor.id, chat)
      for (const next of goals) {
        if (next.after !== goal.id || !ctx.rng.chance(next.afterChatShare)) continue
        ctx.after(ctx.rng.uniform(2, 30) * 60, 'later', () =>
          convert(ctx, next.id, chat.identity.visitor.id, chat),
        )
      }
    })
  }
}

/** A `conversion`, attributed to the chat unless there is none or it was deleted. */
function convert(
  ctx: SimulationContext,
  goalId: number,
  visitorId: string,
  chat: ChatState | null,
): void {
  ctx.emit('conversion', {
    conversion_id: newConversionId(ctx.rng, ctx.directory.accountNumber, goalId, ctx.now),
    goal_id: goalId,
    visitor_id: visitorId,
    ...(chat === null || chat.deleted ? {} : { chat_id: chat.id }),
  })
}

/**
 * Schedules the next conversion by a visitor who did not chat (a Poisson process following
 * traffic), which schedules the one after it.
 */
export function scheduleBackgroundConversion(ctx: SimulationContext, after: Micros): void {
  const goals = ctx.directory.goals
  if (goals.length === 0) return
  const at = nextArrival(ctx.rng, ctx.local, after, ctx.rates.backgroundConversionsPerHour)
  if (at >= ctx.options.end) return
  ctx.schedule(at, 'arrival', () => {
    scheduleBackgroundConversion(ctx, ctx.now)
    const goal = ctx.rng.weighted(goals.map((g) => [g, g.backgroundWeight] as const))
    // Mostly visitors who never chatted; some returning chatters, not attributed by us.
    const visitorId =
      ctx.returning.length > 0 && ctx.rng.chance(0.3)
        ? ctx.rng.pick(ctx.returning).visitor.id
        : newVisitorId(ctx.rng, ctx.directory.accountNumber)
    convert(ctx, goal.id, visitorId, null)
  })
}

/**
 * A visitor who found the department offline leaves a message (`offline_message`, under a chat
 * id of its own); some create a Support ticket.
 */
export function offlineMessage(
  ctx: SimulationContext,
  identity: VisitorIdentity,
  departmentId: number | null,
  sessionStart: Micros,
): void {
  // The offline form asks for a name and an email.
  ctx.visitors.identify(identity)
  const id = uniqueId(ctx.chatIds, () => newChatId(ctx.rng, ctx.directory.accountNumber, ctx.now))
  const topic = ctx.text.topic(ctx.topicFamily(departmentId), identity.visitor.email, null)
  const referral = ctx.visitors.referral()
  const ticket = ctx.rng.chance(ctx.rates.ticketShare) ? ctx.nextTicket++ : null
  ctx.emit('offline_message', {
    chat_id: id,
    visitor: identity.visitor,
    session: ctx.visitors.session(identity, sessionStart),
    department_id: departmentId,
    message: ctx.text.offlineMessage(topic),
    webpath: ctx.visitors.webpath(sessionStart, ctx.now, referral, null),
    zendesk_ticket_id: ticket,
  })
  ctx.after(3600, 'later', () => ctx.chatIds.delete(id))
}
