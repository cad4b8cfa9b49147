import type { Locator, Page } from 'playwright-core'

/** The console's frame: app bar and navigation drawer, and the overview page. */
export class AdminShellPage {
  readonly signedInUser: Locator

  constructor(readonly page: Page) {
    this.signedInUser = page.getByTestId('signed-in-user')
  }

  /** Follows a drawer link by its data-testid suffix (cluster, users, audit-log, ...). */
  async navigate(section: string): Promise<void> {
    await this.page.getByTestId(`nav-${section}`).click()
    await this.page.waitForURL(new RegExp(`/admin/${section}$`))
  }

  /** The overview's "Nodes ready" card text, e.g. "3 / 3". */
  nodesStat(): Locator {
    return this.page.getByTestId('stat-nodes')
  }
}
