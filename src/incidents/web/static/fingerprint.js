// A recording's fingerprint, worked out on this device with Web Crypto: the file is read here and
// never sent (its input has no name, and the form is not multipart). Without this script, or
// where Web Crypto is missing (a page not served over HTTPS), people paste what sha256sum prints.

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('')

export async function sha256OfFile (file) {
  return hex(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()))
}

const usable = () => typeof crypto !== 'undefined' && crypto.subtle !== undefined

// The file pickers show, and the words for doing without them go, only where Web Crypto can be used.
function reveal (root) {
  if (!usable()) return
  root.querySelectorAll('.app-needs-js').forEach((el) => { el.hidden = false })
  root.querySelectorAll('.app-without-js').forEach((el) => { el.hidden = true })
}

// The form that registers a file: picking the file fills in its SHA-256 and size.
function fingerprintForm (form) {
  reveal(form)
  const input = form.querySelector('input[type="file"]')
  const status = form.querySelector('[data-fingerprint-status]')
  input.addEventListener('change', async () => {
    const file = input.files[0]
    if (!file) return
    status.textContent = `Working out the fingerprint of ${file.name}…`
    try {
      form.querySelector('#sha256').value = await sha256OfFile(file)
      form.querySelector('#size').value = String(file.size)
      status.textContent = `Fingerprint of ${file.name} worked out on this device. The file was not sent.`
    } catch (error) {
      status.textContent = `The file could not be read (${error.message}): paste what sha256sum prints instead.`
    }
  })
}

// "Check a file": whether a picked file is the recording that was made.
function fileCheck (section) {
  reveal(section)
  const input = section.querySelector('input[type="file"]')
  const result = section.querySelector('[data-check-result]')
  input.addEventListener('change', async () => {
    const file = input.files[0]
    if (!file) return
    result.textContent = `Checking ${file.name}…`
    const sha = await sha256OfFile(file)
    const same = sha === section.dataset.sha256 && String(file.size) === section.dataset.size
    result.className = same ? 'nhsuk-body app-check-match' : 'nhsuk-body app-check-mismatch'
    result.textContent = same
      ? `${file.name} matches: it is the recording that was made.`
      : `${file.name} does not match: it is not the recording that was made (its SHA-256 is ${sha}).`
  })
}

export function initFingerprints (scope = document) {
  scope.querySelectorAll('form[data-fingerprint]').forEach(fingerprintForm)
  scope.querySelectorAll('[data-check-file]').forEach(fileCheck)
}
