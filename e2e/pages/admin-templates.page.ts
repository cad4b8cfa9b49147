import type { Locator, Page } from 'playwright-core'

/** The templates section: the list and the template editor ("New template": a form beside the YAML, starting with an example manifest). */
export class AdminTemplatesPage {
  readonly table: Locator
  readonly message: Locator

  constructor(readonly page: Page) {
    this.table = page.getByTestId('templates-table')
    this.message = page.getByTestId('template-message')
  }

  /** Opens the dialog and applies the manifest it shows. */
  async applyExample(): Promise<void> {
    await this.page.getByTestId('apply-template').click()
    await this.page.getByTestId('template-apply-submit').click()
  }

  async close(): Promise<void> {
    await this.page.keyboard.press('Escape')
  }

  row(name: string): Locator {
    return this.table.locator('tbody tr').filter({ hasText: name })
  }
}
