import type { Locator, Page } from 'playwright-core'

/** The configuration section: the grouped settings form, the test result, the history. */
export class AdminConfigurationPage {
  readonly form: Locator
  readonly message: Locator
  readonly testChanges: Locator
  readonly apply: Locator
  readonly pending: Locator
  readonly preview: Locator
  readonly verdict: Locator
  readonly diff: Locator
  readonly history: Locator
  readonly confirmRestore: Locator

  constructor(readonly page: Page) {
    this.form = page.getByTestId('settings-form')
    this.message = page.getByTestId('configuration-message')
    this.testChanges = page.getByTestId('test-changes')
    this.apply = page.getByTestId('apply-changes')
    this.pending = page.getByTestId('pending-count')
    this.preview = page.getByTestId('preview-result')
    this.verdict = page.getByTestId('preview-verdict')
    this.diff = page.getByTestId('preview-diff')
    this.history = page.getByTestId('settings-history')
    this.confirmRestore = page.getByTestId('confirm-restore')
  }

  /** The text input (or textarea) of a setting's field. */
  input(key: string): Locator {
    return this.page.getByTestId(`setting-input-${key}`).locator('input, textarea:not([aria-hidden="true"])').first()
  }

  /** A BOOLEAN setting's switch. */
  switch(key: string): Locator {
    return this.page.getByTestId(`setting-input-${key}`).locator('input[type="checkbox"]')
  }

  source(key: string): Locator {
    return this.page.getByTestId(`setting-source-${key}`)
  }

  /** The field's validation messages (from the server). */
  fieldMessages(key: string): Locator {
    return this.page.getByTestId(`setting-input-${key}`).locator('.v-messages')
  }

  dryRun(kind: string): Locator {
    return this.page.getByTestId(`dry-run-${kind}`)
  }

  version(id: number): Locator {
    return this.page.getByTestId(`version-${id}`)
  }

  async markReset(key: string): Promise<void> {
    await this.page.getByTestId(`reset-${key}`).click()
  }

  async restore(id: number): Promise<void> {
    await this.version(id).locator('.v-expansion-panel-title').click()
    await this.page.getByTestId(`restore-${id}`).click()
    await this.confirmRestore.click()
  }
}
