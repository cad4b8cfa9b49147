import type { Locator, Page } from 'playwright-core'

/**
 * The sign-in form focuses its username field itself (Vuetify's `autofocus` runs from an IntersectionObserver, after
 * the first paint). Playwright's fill() focuses, then inserts text in a second step: a focus that moves in between puts
 * the text into the other field. So a test waits until the form's own focus has happened before typing, the way a
 * person sees the cursor in the field before typing.
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
