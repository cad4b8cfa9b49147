import type { Locator, Page } from 'playwright-core'

/** The share dialog of the session view (owners and admins): the access list and who is connected. */
export class ShareDialogPage {
  readonly open: Locator
  readonly dialog: Locator
  readonly username: Locator
  readonly add: Locator
  readonly error: Locator

  constructor(readonly page: Page) {
    this.open = page.getByTestId('session-share')
    this.dialog = page.getByTestId('share-dialog')
    this.username = this.dialog.getByRole('textbox', { name: 'Username' })
    this.add = this.dialog.getByTestId('share-add')
    this.error = this.dialog.getByTestId('share-error')
  }

  entry(username: string): Locator {
    return this.dialog.getByTestId(`share-${username}`)
  }

  /** Adds a user with a role ('Viewer' or 'Collaborator'), keyboard and pointer like a person. */
  async share(username: string, role: 'Viewer' | 'Collaborator'): Promise<void> {
    await this.username.fill(username)
    await this.dialog.getByTestId('share-role').click()
    await this.page.getByRole('option', { name: new RegExp(`^${role}`) }).click()
    await this.add.click()
    await this.entry(username).waitFor({ state: 'visible' })
  }

  groupEntry(group: string): Locator {
    return this.dialog.getByTestId(`share-group-${group}`)
  }

  /** Adds a group with a role: "A group", then its name (typed; the caller's own groups are offered as chips). */
  async shareWithGroup(group: string, role: 'Viewer' | 'Collaborator'): Promise<void> {
    await this.dialog.getByTestId('share-target-group').click()
    await this.dialog.getByRole('textbox', { name: 'Group' }).fill(group)
    await this.dialog.getByTestId('share-role').click()
    await this.page.getByRole('option', { name: new RegExp(`^${role}`) }).click()
    await this.add.click()
    await this.groupEntry(group).waitFor({ state: 'visible' })
  }

  async remove(username: string): Promise<void> {
    await this.entry(username).getByRole('button', { name: `Remove ${username}` }).click()
    await this.entry(username).waitFor({ state: 'detached' })
  }
}
