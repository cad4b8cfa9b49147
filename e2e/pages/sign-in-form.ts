import type { Locator, Page } from 'playwright-core'

/**
 * The sign-in form focuses its username field itself when it mounts (unless something else already has the focus).
 * Playwright's fill() focuses, then inserts text in a second step: a focus that moved in between would put the text
 * into the other field (Vuetify's own `autofocus`, from an IntersectionObserver and a timer, did that once). So a
 * test waits until the form's own focus has happened before typing, the way a person sees the cursor in the field.
 */
export async function autofocusSettled(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const active = document.activeElement
    return active instanceof HTMLInputElement && active.name === 'username'
  })
}

/** Fills both fields and checks they hold what was typed (fill again once if a late focus change moved the text). */
export async function fillCredentials(usernameField: Locator, passwordField: Locator, username: string, password: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    await usernameField.fill(username)
    await passwordField.fill(password)
    if ((await usernameField.inputValue()) === username && (await passwordField.inputValue()) === password) return
  }
  throw new Error('the sign-in form did not keep the typed username and password')
}
