import type { Locator, Page } from 'playwright-core'

/** The audit log: filters and the entries table. */
export class AdminAuditPage {
  readonly table: Locator

  constructor(readonly page: Page) {
    this.table = page.getByTestId('audit-table')
  }

  async filterByAction(action: string): Promise<void> {
    await this.page.getByTestId('audit-action').locator('input').fill(action)
    await this.page.getByTestId('audit-apply').click()
  }

  rows(): Locator {
    return this.table.locator('tbody tr')
  }
}
