import type { Locator, Page } from 'playwright-core'

/** The portal's catalog (`/catalog`), shown when the features.catalogBrowsing setting allows it. */
export class CatalogPage {
  readonly heading: Locator
  readonly search: Locator
  readonly cards: Locator
  readonly off: Locator
  readonly notice: Locator
  readonly requestDialog: Locator

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Catalog', level: 1 })
    this.search = page.getByRole('searchbox', { name: 'Search the catalog' })
    this.cards = page.locator('[data-testid^="catalog-card-"]')
    this.off = page.getByTestId('catalog-off')
    this.notice = page.getByTestId('catalog-notice')
    this.requestDialog = page.getByTestId('request-dialog')
  }

  async open(origin: string): Promise<void> {
    await this.page.goto(`${origin}/catalog`)
    await this.heading.waitFor({ state: 'visible' })
  }

  card(displayName: string): Locator {
    return this.page.getByRole('article', { name: displayName, exact: true })
  }

  /** Display names of the cards shown, in order. */
  async cardNames(): Promise<string[]> {
    return (await this.cards.locator('h2').allInnerTexts()).map((t) => t.trim())
  }

  launchButton(displayName: string): Locator {
    return this.card(displayName).getByRole('button', { name: `Launch ${displayName}` })
  }

  requestButton(displayName: string): Locator {
    return this.card(displayName).getByRole('button', { name: `Request ${displayName}` })
  }
}
