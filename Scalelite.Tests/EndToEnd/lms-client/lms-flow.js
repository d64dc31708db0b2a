'use strict'
// An LMS's meeting flow through the third-party `bigbluebutton-js` client:
// create -> join -> isMeetingRunning -> getMeetingInfo -> getMeetings -> end.
// The library signs with SHA-1; for SHA-256 its URLs are re-signed the way SHA-256 clients do.
// Usage: node lms-flow.js <base url ending in /bigbluebutton> <secret> <sha1|sha256> <meetingID>
const crypto = require('crypto')
const bbb = require('bigbluebutton-js')

const [base, secret, algorithm, meetingID] = process.argv.slice(2)
const api = bbb.api(base, secret)

function sign(url) {
  if (algorithm === 'sha1') return url
  const u = new URL(url)
  const call = u.pathname.split('/').pop()
  const query = u.search.slice(1).replace(/&?checksum=[0-9a-f]+$/, '')
  const checksum = crypto.createHash(algorithm).update(call + query + secret).digest('hex')
  return `${u.origin}${u.pathname}?${query}&checksum=${checksum}`
}

function expect(condition, message) {
  if (!condition) throw new Error(message)
}

async function main() {
  const created = await bbb.http(sign(api.administration.create('LMS room', meetingID, { attendeePW: 'ap', moderatorPW: 'mp', record: true })))
  expect(created.returncode === 'SUCCESS', `create: ${JSON.stringify(created)}`)

  const joinUrl = sign(api.administration.join('Teacher', meetingID, 'mp'))
  const join = await fetch(joinUrl, { redirect: 'manual' })
  expect(join.status === 302, `join answered ${join.status}`)
  const location = join.headers.get('location')
  const landing = await fetch(location, { redirect: 'manual' })
  expect(landing.status === 302 || landing.status === 200, `the owning server refused the join: ${landing.status}`)

  const running = await bbb.http(sign(api.monitoring.isMeetingRunning(meetingID)))
  expect(running.returncode === 'SUCCESS' && running.running === true, `isMeetingRunning: ${JSON.stringify(running)}`)

  const info = await bbb.http(sign(api.monitoring.getMeetingInfo(meetingID)))
  expect(info.returncode === 'SUCCESS' && String(info.meetingID) === meetingID, `getMeetingInfo: ${JSON.stringify(info).slice(0, 300)}`)
  expect(info.internalMeetingID === created.internalMeetingID, 'getMeetingInfo names another meeting')

  const meetings = await bbb.http(sign(api.monitoring.getMeetings()))
  expect(meetings.returncode === 'SUCCESS' && meetings.meetings.some(m => String(m.meetingID) === meetingID), 'getMeetings lacks the meeting')

  const ended = await bbb.http(sign(api.administration.end(meetingID, 'mp')))
  expect(ended.returncode === 'SUCCESS', `end: ${JSON.stringify(ended)}`)

  const after = await bbb.http(sign(api.monitoring.isMeetingRunning(meetingID)))
  expect(after.running === false, 'the meeting still runs after end')
  console.log(`ok ${algorithm} join->${new URL(location).host}`)
}

main().catch(e => { console.error(e.stack || String(e)); process.exit(1) })
