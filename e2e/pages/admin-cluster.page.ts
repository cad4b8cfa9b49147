import type { Locator, Page } from 'playwright-core'

/** The cluster section: nodes table, resource browser and the YAML dialog. */
export class AdminClusterPage {
  readonly nodesTable: Locator
  readonly resourcesTable: Locator
  readonly dialog: Locator
  readonly dialogTitle: Locator

  constructor(readonly page: Page) {
    this.nodesTable = page.getByTestId('nodes-table')
    this.resourcesTable = page.getByTestId('resources-table')
    this.dialog = page.getByTestId('resource-dialog')
    this.dialogTitle = page.getByTestId('resource-title')
  }

  /** Names in the first column of the nodes table. */
  async nodeNames(): Promise<string[]> {
    const rows = this.nodesTable.locator('tbody tr')
    const names: string[] = []
    for (const row of await rows.all()) {
      const cell = (await row.locator('td').first().innerText()).trim()
      if (cell && !/no data/i.test(cell)) names.push(cell)
    }
    return names
  }

  async openResources(): Promise<void> {
    await this.page.getByTestId('tab-resources').click()
    await this.resourcesTable.waitFor({ state: 'visible' })
  }

  /** Picks a value of a Vuetify select by its data-testid. */
  private async choose(testId: string, value: string): Promise<void> {
    await this.page.getByTestId(testId).click()
    await this.page.locator('.v-overlay--active .v-list-item').filter({ hasText: new RegExp(`^\\s*${value}\\s*$`) }).first().click()
  }

  async selectKind(kind: string): Promise<void> {
    await this.choose('kind-select', kind)
  }

  async selectNamespace(namespace: string): Promise<void> {
    await this.choose('namespace-select', namespace)
  }

  row(name: string): Locator {
    return this.page.getByTestId(`resource-row-${name}`)
  }

  /** Waits until the dialog's opening transition has finished (for screenshots that show it fully). */
  async waitForDialogOpen(): Promise<void> {
    await this.dialog.waitFor({ state: 'visible' })
    await this.page.waitForFunction(() => {
      const content = document.querySelector('.v-overlay--active .v-overlay__content')
      return !!content && getComputedStyle(content).opacity === '1' && content.getAnimations().length === 0
    })
  }

  /** Switches the dialog to editing, appends `text` at the end of the YAML and applies it. */
  async appendAndApply(text: string): Promise<void> {
    await this.page.getByTestId('resource-edit').click()
    const editor = this.dialog.locator('.cm-content')
    await editor.click()
    await this.page.keyboard.press('Control+End')
    await this.page.keyboard.type(text)
    await this.page.getByTestId('resource-apply').click()
  }

  message(): Locator {
    return this.page.getByTestId('resource-message')
  }

  /** Opens the logs / command / shell dialog of a pod from its row. */
  async openPodTools(name: string): Promise<void> {
    await this.page.getByRole('button', { name: `Logs of ${name}` }).click()
    await this.page.getByTestId('pod-tools-dialog').waitFor({ state: 'visible' })
  }

  podToolsError(): Locator {
    return this.page.getByTestId('pod-tools-error')
  }

  async openShell(): Promise<Locator> {
    const dialog = this.page.getByTestId('pod-tools-dialog')
    await dialog.getByRole('tab', { name: 'Shell' }).click()
    await dialog.getByRole('button', { name: 'Open shell' }).click()
    return this.page.getByTestId('pod-shell-status')
  }

  /** The YAML shown in the dialog's editor. */
  async yaml(): Promise<string> {
    return this.dialog.locator('.cm-content').innerText()
  }
}
