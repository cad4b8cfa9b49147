import type { Locator, Page } from 'playwright-core'

/** The session view (`/sessions/:id`): start-up progress, then the app. */
export class SessionViewPage {
  readonly title: Locator
  readonly progress: Locator
  readonly status: Locator
  readonly frame: Locator
  readonly vnc: Locator
  readonly fullscreen: Locator

  constructor(readonly page: Page) {
    this.title = page.getByTestId('session-title')
    this.progress = page.getByTestId('session-progress')
    this.status = page.getByTestId('connection-status')
    this.frame = page.getByTestId('session-frame')
    this.vnc = page.getByTestId('vnc-screen')
    this.fullscreen = page.getByTestId('session-fullscreen')
  }

  /** The session id from the URL. */
  sessionId(): string {
    const match = /\/sessions\/([0-9a-f-]{36})/.exec(this.page.url())
    if (!match?.[1]) throw new Error(`not a session URL: ${this.page.url()}`)
    return match[1]
  }

  async statusText(): Promise<string> {
    return (await this.status.innerText()).trim()
  }
}
