import type { Locator, Page } from 'playwright-core'
import { autofocusSettled, fillCredentials } from './sign-in-form'

/** The portal's sign-in page (`/login`). */
export class LoginPage {
  readonly username: Locator
  readonly password: Locator
  readonly submit: Locator
  readonly error: Locator

  constructor(readonly page: Page) {
    this.username = page.getByRole('textbox', { name: 'Username', exact: true })
    this.password = page.locator('input[name="password"]')
    this.submit = page.getByRole('button', { name: 'Sign in', exact: true })
    this.error = page.getByTestId('login-error')
  }

  /** Opens the portal; a signed-out visitor lands on the sign-in form. */
  async open(origin: string): Promise<void> {
    await this.page.goto(`${origin}/`)
    await this.page.waitForURL(/\/login/)
    await this.username.waitFor({ state: 'visible' })
    await autofocusSettled(this.page)
  }

  /** Types like a person and submits with Enter (keyboard only). */
  async signIn(username: string, password: string): Promise<void> {
    await fillCredentials(this.username, this.password, username, password)
    await this.password.press('Enter')
  }
}
