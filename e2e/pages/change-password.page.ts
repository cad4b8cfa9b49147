import type { Locator, Page } from 'playwright-core'

/** The portal's password page (`/account/password`). */
export class ChangePasswordPage {
  readonly heading: Locator
  readonly current: Locator
  readonly next: Locator
  readonly confirm: Locator
  readonly submit: Locator
  readonly saved: Locator
  readonly managed: Locator

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Change password', level: 1 })
    this.current = page.getByLabel('Current password', { exact: true })
    this.next = page.getByLabel('New password', { exact: true })
    this.confirm = page.getByLabel('Confirm new password', { exact: true })
    this.submit = page.getByRole('button', { name: 'Change password' })
    this.saved = page.getByTestId('password-saved')
    this.managed = page.getByTestId('password-managed')
  }

  /** The messages under a field (Vuetify's details region for that input). */
  messageOf(testId: 'password-current' | 'password-new' | 'password-confirm'): Locator {
    return this.page.getByTestId(testId).locator('.v-messages')
  }
}
