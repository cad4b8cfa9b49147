import type { Locator, Page } from 'playwright-core'

/** The portal's frame around every signed-in page: the announcement banner. */
export class PortalShellPage {
  readonly announcement: Locator
  readonly announcementText: Locator
  readonly dismissAnnouncement: Locator

  constructor(readonly page: Page) {
    this.announcement = page.getByRole('region', { name: 'Announcement' })
    this.announcementText = page.getByTestId('announcement-text')
    this.dismissAnnouncement = page.getByRole('button', { name: 'Dismiss announcement' })
  }
}
