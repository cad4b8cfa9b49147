import type { Locator, Page } from 'playwright-core'

/** My sessions (`/sessions`). */
export class MySessionsPage {
  readonly heading: Locator
  readonly empty: Locator
  readonly confirmDialog: Locator

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'My sessions', level: 1 })
    this.empty = page.getByTestId('sessions-empty')
    this.confirmDialog = page.getByTestId('confirm-dialog')
  }

  async open(origin: string): Promise<void> {
    await this.page.goto(`${origin}/sessions`)
    await this.heading.waitFor({ state: 'visible' })
  }

  session(id: string): Locator {
    return this.page.getByTestId(`session-${id}`)
  }

  async phase(id: string): Promise<string> {
    return (await this.session(id).getByTestId('session-phase').innerText()).trim()
  }

  async connections(id: string): Promise<string> {
    return (await this.session(id).getByTestId('session-connections').innerText()).trim()
  }

  async idleText(id: string): Promise<string> {
    return (await this.session(id).getByTestId('session-idle').innerText()).trim()
  }

  /** Clicks the action and, when a confirmation is asked, confirms it. */
  async act(id: string, action: 'hibernate' | 'wake' | 'terminate', confirm = action !== 'wake'): Promise<void> {
    await this.session(id).getByTestId(`session-${action}`).click()
    if (confirm) {
      await this.confirmDialog.waitFor({ state: 'visible' })
      await this.confirmDialog.getByTestId('confirm-ok').click()
      await this.confirmDialog.waitFor({ state: 'hidden' })
    }
  }
}
