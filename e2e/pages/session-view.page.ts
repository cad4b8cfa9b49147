import type { Locator, Page } from 'playwright-core'

/** The session view (`/sessions/:id`): start-up progress, then the app. */
export class SessionViewPage {
  readonly title: Locator
  readonly progress: Locator
  readonly status: Locator
  readonly frame: Locator
  readonly vnc: Locator
  readonly fullscreen: Locator
  readonly hibernate: Locator
  readonly terminate: Locator
  readonly hybridSwitch: Locator
  readonly hibernated: Locator
  readonly ended: Locator

  constructor(readonly page: Page) {
    this.title = page.getByTestId('session-title')
    this.progress = page.getByTestId('session-progress')
    this.status = page.getByTestId('connection-status')
    this.frame = page.getByTestId('session-frame')
    this.vnc = page.getByTestId('vnc-screen')
    this.fullscreen = page.getByTestId('session-fullscreen')
    this.hibernate = page.getByTestId('session-hibernate')
    this.terminate = page.getByTestId('session-terminate')
    this.hybridSwitch = page.getByTestId('hybrid-switch')
    this.hibernated = page.getByTestId('session-hibernated')
    this.ended = page.getByTestId('session-ended')
  }

  /** The session id from the URL. */
  sessionId(): string {
    const match = /\/sessions\/([0-9a-f-]{36})/.exec(this.page.url())
    if (!match?.[1]) throw new Error(`not a session URL: ${this.page.url()}`)
    return match[1]
  }

  /** Confirms the open confirm dialog with its button (Hibernate, Terminate). */
  async confirm(label: string): Promise<void> {
    await this.page.getByTestId('confirm-dialog').getByRole('button', { name: label, exact: true }).click()
  }

  async statusText(): Promise<string> {
    return (await this.status.innerText()).trim()
  }
}
