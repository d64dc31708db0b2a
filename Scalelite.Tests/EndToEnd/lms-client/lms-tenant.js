'use strict'
// A tenant's LMS through the third-party `bigbluebutton-js` client, on the tenant's own path
// (/t/NAME/bigbluebutton): its own meeting works, and other tenants' meetings are not there for it, even by ID.
// Usage: node lms-tenant.js <base url ending in /t/NAME/bigbluebutton> <secret> <own meetingID> <other tenants' meetingIDs...>
const bbb = require('bigbluebutton-js')

const [base, secret, own, ...foreign] = process.argv.slice(2)
const api = bbb.api(base, secret)

function expect(condition, message) {
  if (!condition) throw new Error(message)
}

async function main() {
  const created = await bbb.http(api.administration.create('Own room', own, { attendeePW: 'ap', moderatorPW: 'mp' }))
  expect(created.returncode === 'SUCCESS', `create: ${JSON.stringify(created)}`)
  const join = await fetch(api.administration.join('Teacher', own, 'mp'), { redirect: 'manual' })
  expect(join.status === 302, `join of its own meeting answered ${join.status}`)

  for (const id of foreign) {
    const foreignJoin = await fetch(api.administration.join('Intruder', id, 'mp'), { redirect: 'manual' })
    const body = await foreignJoin.text()
    expect(foreignJoin.status === 200 && body.includes('<messageKey>notFound</messageKey>'), `join ${id}: ${foreignJoin.status} ${body}`)
    const info = await bbb.http(api.monitoring.getMeetingInfo(id))
    expect(info.returncode === 'FAILED' && info.messageKey === 'notFound', `getMeetingInfo ${id}: ${JSON.stringify(info)}`)
    const running = await bbb.http(api.monitoring.isMeetingRunning(id))
    expect(running.returncode === 'SUCCESS' && running.running === false, `isMeetingRunning ${id}: ${JSON.stringify(running)}`)
    const ended = await bbb.http(api.administration.end(id, 'mp'))
    expect(ended.returncode === 'FAILED' && ended.messageKey === 'notFound', `end ${id}: ${JSON.stringify(ended)}`)
  }

  const meetings = await bbb.http(api.monitoring.getMeetings())
  const listed = (meetings.meetings || []).map(m => String(m.meetingID))
  expect(meetings.returncode === 'SUCCESS' && listed.includes(own), `getMeetings lacks ${own}: ${JSON.stringify(listed)}`)
  expect(!foreign.some(id => listed.includes(id)), `getMeetings lists another tenant's meeting: ${JSON.stringify(listed)}`)
  console.log(`ok tenant ${listed.length} meeting(s)`)
}

main().catch(e => { console.error(e.stack || String(e)); process.exit(1) })
