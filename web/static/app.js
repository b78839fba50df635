// Incidents: progressive enhancement only. Every page works without this file.
import { initAll } from '/static/nhsuk/nhsuk-frontend.min.js'

initAll()

// A shared tablet: after a quiet spell, leave the page so no patient details stay on screen.
const idleSeconds = Number(document.body.dataset.idleSeconds || 0)
const signedIn = document.querySelector('form[action="/sign-out"]') !== null
// Signing out is a POST (a GET changes nothing): this session only, not the person's others.
const signOutIdle = () => {
  const form = document.querySelector('form[action="/sign-out"]')
  const reason = Object.assign(document.createElement('input'), { type: 'hidden', name: 'reason', value: 'inactive' })
  form.append(reason)
  form.submit()
}
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
}
