/**
 * The known attributes of the expandable export objects (Chat and Conversion), as trees. The
 * `fields` parser checks attribute names against them, so that a typo such as
 * `chats(raiting)` is a 400 naming the typo rather than a page of silently empty objects.
 *
 * Sources: reference-notes.md §1 (Chat object field by field, history events, engagements,
 * Conversion) and the example items in spec/examples/chats.jsonl and conversions.jsonl. Both chat
 * types (`chat`, `offline_msg`) share one tree: an attribute a given item lacks is simply omitted
 * from its projection.
 * @module
 */

/**
 * An attribute tree: each known attribute name maps to `null` when its value has no named parts
 * (a string, number, boolean or array of scalars), or to the tree of its own attributes when it is
 * an object or an array of objects (a path through an array applies to each element).
 */
export interface AttributeTree {
  readonly [name: string]: AttributeTree | null
}

function leaves(...names: string[]): Record<string, null> {
  return Object.fromEntries(names.map((name) => [name, null]))
}

const COUNT: AttributeTree = leaves('agent', 'total', 'visitor')
const RESPONSE_TIME: AttributeTree = leaves('avg', 'first', 'max')

const VISITOR: AttributeTree = leaves('id', 'name', 'email', 'phone', 'notes')

const SESSION: AttributeTree = leaves(
  'id',
  'browser',
  'city',
  'country_code',
  'country_name',
  'region',
  'platform',
  'ip',
  'user_agent',
  'start_date',
  'end_date',
)

const WEBPATH: AttributeTree = leaves('from', 'to', 'title', 'timestamp')

/** Attribution of a conversion exported on its own stream (reference-notes.md §1.4). */
const ATTRIBUTION: AttributeTree = leaves('agent_id', 'department_id', 'chat_id', 'chat_timestamp')

/** The Conversion object of the conversions stream. */
export const CONVERSION_ATTRIBUTES: AttributeTree = {
  ...leaves('id', 'timestamp', 'goal_id', 'goal_name'),
  attribution: ATTRIBUTION,
}

/** A conversion embedded in a chat also names the agent and department it was attributed to. */
const CHAT_CONVERSION: AttributeTree = {
  ...leaves('id', 'timestamp', 'goal_id', 'goal_name'),
  attribution: { ...ATTRIBUTION, ...leaves('agent_name', 'department_name') },
}

/** The union of the attributes seen across history event types (reference-notes.md §1.2). */
const HISTORY_EVENT: AttributeTree = {
  ...leaves(
    'type',
    'timestamp',
    'name',
    'channel',
    'index',
    // chat.memberjoin / chat.memberleave
    'department_id',
    'department_name',
    'source',
    'reason',
    // chat.msg
    'msg',
    'msg_id',
    'options',
    'sender_type',
    'agent_id',
    // chat.tag, chat.comment, chat.rating
    'tags',
    'new_tags',
    'comment',
    'new_comment',
    'rating',
    'new_rating',
    // transfers and schema-only fields
    'prev_department_id',
    'nick',
    'skills_name',
  ),
  conversion: CHAT_CONVERSION,
}

/** The engagement object of the incremental chat export (reference-notes.md §1.3). */
const ENGAGEMENT: AttributeTree = {
  ...leaves(
    'id',
    'chat_id',
    'started_by',
    'agent_id',
    'agent_name',
    'agent_full_name',
    'department_id',
    'assigned',
    'accepted',
    'rating',
    'comment',
    'skills_requested',
    'skills_fulfilled',
    'timestamp',
    'duration',
  ),
  response_time: RESPONSE_TIME,
  count: COUNT,
}

/** The Chat object (both `chat` and `offline_msg`) plus the export's own attributes. */
export const CHAT_ATTRIBUTES: AttributeTree = {
  ...leaves(
    'id',
    'type',
    'timestamp',
    'end_timestamp',
    'update_timestamp',
    'started_by',
    'duration',
    'department_id',
    'department_name',
    'agent_ids',
    'agent_names',
    'triggered',
    'triggered_response',
    'unread',
    'missed',
    'tags',
    'rating',
    'comment',
    'message',
    'referrer_search_engine',
    'referrer_search_terms',
    'zendesk_ticket_id',
    // Added by the incremental export.
    'skills_requested',
    'skills_fulfilled',
    'abandon_time',
    'dropped',
    'proactive',
    'deleted',
  ),
  visitor: VISITOR,
  session: SESSION,
  count: COUNT,
  response_time: RESPONSE_TIME,
  webpath: WEBPATH,
  history: HISTORY_EVENT,
  engagements: ENGAGEMENT,
  conversions: CHAT_CONVERSION,
}

/** Looks up a child attribute without ever reaching `Object.prototype` (`constructor`, …). */
export function childAttribute(
  tree: AttributeTree,
  name: string,
): AttributeTree | null | undefined {
  return Object.hasOwn(tree, name) ? tree[name] : undefined
}
