import type { Locator, Page } from 'playwright-core'

/** The configuration section: the settings table and the edit dialog. */
export class AdminConfigurationPage {
  readonly table: Locator
  readonly message: Locator
  readonly input: Locator
  readonly save: Locator
  readonly resetInDialog: Locator

  constructor(readonly page: Page) {
    this.table = page.getByTestId('settings-table')
    this.message = page.getByTestId('configuration-message')
    this.input = page.getByTestId('setting-input').locator('input, textarea:not([aria-hidden="true"])').first()
    this.save = page.getByTestId('setting-save')
    this.resetInDialog = page.getByTestId('setting-reset')
  }

  value(key: string): Locator {
    return this.page.getByTestId(`setting-value-${key}`)
  }

  source(key: string): Locator {
    return this.page.getByTestId(`setting-source-${key}`)
  }

  /** The field's validation messages (from the server). */
  fieldMessages(): Locator {
    return this.page.getByTestId('setting-input').locator('.v-messages')
  }

  /** Opens the edit dialog with the keyboard: focus the row's edit button, press Enter. */
  async openEditor(key: string): Promise<void> {
    const button = this.page.getByTestId(`edit-${key}`)
    await button.focus()
    await button.press('Enter')
    await this.input.waitFor({ state: 'visible' })
  }

  async reset(key: string): Promise<void> {
    await this.page.getByTestId(`reset-${key}`).click()
  }
}
