// The NHS.UK frontend's initAll over only the components the pages use, so that the bundle
// leaves out the rest; tests/browser/test_accessibility.py names any component left uninitialised.
import { Button, Checkboxes, ErrorSummary, Header, NotificationBanner, Radios, SkipLink, Table, createAll } from 'nhsuk-frontend'

const COMPONENTS = [Button, Checkboxes, ErrorSummary, Header, NotificationBanner, Radios, SkipLink, Table]

export function initAll (options = {}) {
  for (const Component of COMPONENTS) createAll(Component, undefined, options)
}
