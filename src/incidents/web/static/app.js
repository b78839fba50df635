// Incidents: progressive enhancement only. Every page works without this file.
import { initAll } from './nhsuk.mjs'
import { initFingerprints } from './fingerprint.js'

// NHS.UK frontend marks a radio that reveals a question aria-expanded, which ARIA does not allow on a
// radio (axe: aria-allowed-attr; GOV.UK Frontend dropped it for that reason): the question follows its radio.
const dropExpanded = () => document.querySelectorAll('input[type="radio"][aria-expanded]').forEach((radio) => radio.removeAttribute('aria-expanded'))

initAll()
dropExpanded()
initFingerprints()
// A block HTMX swaps in (the incident page's forms) gets its components too: radios that reveal a question.
document.addEventListener('htmx:load', (event) => { if (event.detail.elt !== document.body) initAll({ scope: event.detail.elt }); dropExpanded() })
// After the frontend's own handlers, which run first (on the radios, and on pageshow, registered by initAll).
document.addEventListener('click', (event) => { if (event.target instanceof HTMLInputElement && event.target.type === 'radio') dropExpanded() })
window.addEventListener('pageshow', dropExpanded)

// "Print" buttons (the list, the monthly report): the print stylesheet leaves out the navigation.
document.addEventListener('click', (event) => { if (event.target.closest('[data-print]')) window.print() })

const idleSeconds = Number(document.body.dataset.idleSeconds || 0)
const user = document.body.dataset.user || ''
const signedIn = document.querySelector('form[action="/sign-out"]') !== null

// Signing out is a POST (a GET changes nothing): this session only, not the person's others.
const signOutIdle = () => {
  const form = document.querySelector('form[action="/sign-out"]')
  const reason = Object.assign(document.createElement('input'), { type: 'hidden', name: 'reason', value: 'inactive' })
  form.append(reason)
  form.submit()
}

// A shared tablet: after a quiet spell, leave the page so no patient details stay on screen.
if (signedIn && idleSeconds > 0) {
  let timer
  const restart = () => {
    clearTimeout(timer)
    timer = setTimeout(signOutIdle, idleSeconds * 1000)
  }
  // Only a person counts: a dashboard polling by itself does not keep the screen signed in.
  for (const name of ['pointerdown', 'keydown']) {
    document.addEventListener(name, restart, { passive: true })
  }
  restart()

  // The server counts the same activity: a person typing a long entry is not signed out under it.
  const token = document.querySelector('input[name="csrf_token"]')?.value
  const every = Math.min(60, idleSeconds / 3) * 1000
  let last = Date.now()
  const keepAlive = () => {
    if (!token || Date.now() - last < every) return
    last = Date.now()
    fetch('/session/keep-alive', { method: 'POST', headers: { 'X-CSRF-Token': token }, credentials: 'same-origin', redirect: 'manual' })
      .catch(() => {})
  }
  for (const name of ['pointerdown', 'keydown', 'input']) {
    document.addEventListener(name, keepAlive, { passive: true })
  }
}

// What a person posts is kept in this tab until the answer arrives: if the session had ended, the
// sign-in page says nothing was saved, and the form is filled in again for the same person.
const DRAFT = 'incidents:unsent'
const kept = (() => { try { return JSON.parse(sessionStorage.getItem(DRAFT) || 'null') } catch { return null } })()
if (kept && location.pathname === '/sign-in') {
  if (new URLSearchParams(location.search).get('reason') === 'unsaved') {
    sessionStorage.setItem(DRAFT, JSON.stringify({ ...kept, unsaved: true }))
  }
} else if (kept) {
  sessionStorage.removeItem(DRAFT) // any other answer: saved, or the form shown again by the server
  const form = kept.unsaved && kept.user === user && kept.page === location.pathname
    ? [...document.forms].find(f => f.getAttribute('action') === kept.action)
    : null
  if (form) {
    for (const [name, value] of kept.fields) {
      const field = form.elements.namedItem(name)
      if (!field || name === 'csrf_token') continue
      for (const element of (field instanceof RadioNodeList ? [...field] : [field])) {
        if (element.type === 'radio' || element.type === 'checkbox') {
          if (element.value === value) element.checked = true
        } else if (element.type !== 'password' && element.type !== 'hidden') {
          element.value = value
        }
      }
    }
    form.dispatchEvent(new Event('input', { bubbles: true }))
  }
}
if (user) {
  document.addEventListener('submit', (event) => {
    const form = event.target
    if ((form.method || '').toLowerCase() !== 'post' || form.querySelector('input[type="password"]')) return
    const action = form.getAttribute('action') || location.pathname
    if (action === '/sign-out') return
    const fields = [...new FormData(form)].filter(([name, value]) => name !== 'csrf_token' && typeof value === 'string')
    sessionStorage.setItem(DRAFT, JSON.stringify({ user, page: location.pathname, action, fields }))
  })
}
