import type { Locator, Page } from 'playwright-core'
import { autofocusSettled, fillCredentials } from './sign-in-form'

/** The admin console's sign-in page (`/admin/login`). */
export class AdminLoginPage {
  readonly username: Locator
  readonly password: Locator
  readonly error: Locator

  constructor(readonly page: Page) {
    this.username = page.getByRole('textbox', { name: 'Username', exact: true })
    this.password = page.locator('input[name="password"]')
    this.error = page.getByTestId('login-error')
  }

  /** Opens the console; a signed-out visitor lands on the sign-in form. */
  async open(origin: string): Promise<void> {
    await this.page.goto(`${origin}/admin/`)
    await this.page.waitForURL(/\/admin\/login/)
    await this.username.waitFor({ state: 'visible' })
    await autofocusSettled(this.page)
  }

  async signIn(username: string, password: string): Promise<void> {
    await fillCredentials(this.username, this.password, username, password)
    await this.password.press('Enter')
  }
}
