/**
 * The ids folding gives the items it creates are part of what is exported: a re-folded or retried
 * event must replace its item, so the same event must give the same id in every version. These
 * values were written by the first implementation (BigInt arithmetic) and pin the derivation.
 */
import { describe, expect, it } from 'vitest'
import { agentEventId, departmentEventId } from '../../src/domain/fold/item-ids.js'

describe('item ids of folded items', () => {
  it('agent_events ids stay what they were', () => {
    expect(agentEventId('ev-42', 980824, 'status')).toBe('BhjpeV4.agent:980824.iYoj7d')
    expect(agentEventId('e1', 7, 'engagements')).toBe('fWAX5KO.agent:7.DDT5D9')
    expect(agentEventId('', 0, 'status')).toBe('wuThrTZ.agent:0.YjX67g')
    expect(agentEventId('ünïcødé-🙂', 4294967295, 'engagements')).toBe(
      'opMdJ1D.agent:4294967295.IkK51K',
    )
  })

  it('department_events ids stay what they were, the account queue as department:null', () => {
    expect(departmentEventId('q-1', 123)).toBe('WAkXptx.department:123.LPk6WX')
    expect(departmentEventId('q-2', null)).toBe('pLI0XJm.department:null.E7FGQA')
    expect(departmentEventId('x', 9007199254740991)).toBe(
      'hDcX1lI.department:9007199254740991.GAvZ1u',
    )
  })
})
