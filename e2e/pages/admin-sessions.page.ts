import type { Locator, Page } from 'playwright-core'

/** The sessions section: every user's sessions with hibernate / wake / delete. */
export class AdminSessionsPage {
  readonly table: Locator

  constructor(readonly page: Page) {
    this.table = page.getByTestId('sessions-table')
  }

  row(sessionName: string): Locator {
    return this.table.locator('tbody tr').filter({ hasText: sessionName })
  }

  async hibernate(sessionName: string): Promise<void> {
    await this.page.getByRole('button', { name: `Hibernate ${sessionName}` }).click()
  }

  wakeButton(sessionName: string): Locator {
    return this.page.getByRole('button', { name: `Wake ${sessionName}` })
  }

  /** Opens the row's details: the session's open connections. */
  async showConnections(sessionName: string): Promise<Locator> {
    await this.page.getByRole('button', { name: `Connections of ${sessionName}` }).click()
    return this.page.getByTestId(`connections-${sessionName}`)
  }
}
