import type { Locator, Page } from 'playwright-core'

/** The app launcher (`/`). */
export class LauncherPage {
  readonly heading: Locator
  readonly search: Locator
  readonly cards: Locator

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Apps', level: 1 })
    this.search = page.getByRole('searchbox', { name: 'Search apps' })
    this.cards = page.locator('[data-testid^="app-card-"]')
  }

  async waitUntilLoaded(): Promise<void> {
    await this.heading.waitFor({ state: 'visible' })
    await this.cards.first().waitFor({ state: 'visible' })
  }

  card(displayName: string): Locator {
    return this.page.getByRole('article', { name: displayName, exact: true })
  }

  /** Display names of the cards shown, in order. */
  async cardNames(): Promise<string[]> {
    return (await this.cards.locator('h3').allInnerTexts()).map((t) => t.trim())
  }

  async searchFor(text: string): Promise<void> {
    await this.search.fill(text)
  }

  async clearSearch(): Promise<void> {
    await this.search.fill('')
  }

  favoriteButton(displayName: string): Locator {
    return this.card(displayName).getByTestId('app-favorite')
  }

  async launch(displayName: string): Promise<void> {
    await this.card(displayName).getByRole('button', { name: `Launch ${displayName}` }).click()
  }
}
