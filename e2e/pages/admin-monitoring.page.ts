import type { Locator, Page } from 'playwright-core'

/** The Metrics page: one line chart per group of sampled series, over the last hour or day. */
export class AdminMetricsPage {
  constructor(readonly page: Page) {}

  /** A chart's canvas; its accessible name ends with the latest value of each line. */
  chart(title: string): Locator {
    return this.page.getByTestId(`chart-${title}`).locator('canvas')
  }

  async chartSummary(title: string): Promise<string> {
    return (await this.chart(title).getAttribute('aria-label')) ?? ''
  }

  async showRange(label: 'Last hour' | 'Last day'): Promise<void> {
    await this.page.getByTestId('metrics-range').getByRole('button', { name: label }).click()
  }
}

/** The Alerts page: what fires now (live), the rules with their thresholds, the latest alerts. */
export class AdminAlertsPage {
  readonly rules: Locator
  readonly history: Locator
  readonly nothingFiring: Locator
  readonly live: Locator
  readonly threshold: Locator
  readonly save: Locator

  constructor(readonly page: Page) {
    this.rules = page.getByTestId('alert-rules')
    this.history = page.getByTestId('alert-history')
    this.nothingFiring = page.getByTestId('no-firing')
    this.live = page.getByTestId('alerts-live')
    this.threshold = page.getByTestId('rule-threshold').locator('input')
    this.save = page.getByTestId('rule-save')
  }

  firing(ruleId: string): Locator {
    return this.page.getByTestId(`firing-${ruleId}`)
  }

  ruleRow(ruleId: string): Locator {
    return this.rules.locator('tbody tr').filter({ hasText: ruleId })
  }

  async edit(ruleId: string): Promise<void> {
    await this.page.getByRole('button', { name: `Edit ${ruleId}` }).click()
  }
}
