import type { Locator, Page } from 'playwright-core'

/** The groups section: the table, the members dialog. */
export class AdminGroupsPage {
  readonly table: Locator
  readonly message: Locator
  readonly membersDialog: Locator

  constructor(readonly page: Page) {
    this.table = page.getByTestId('groups-table')
    this.message = page.getByTestId('groups-message')
    this.membersDialog = page.getByTestId('group-members-dialog')
  }

  row(name: string): Locator {
    return this.table.locator('tbody tr').filter({ hasText: name })
  }

  async openMembers(group: string): Promise<void> {
    await this.row(group).getByRole('button', { name: `Members of ${group}` }).click()
    await this.membersDialog.waitFor({ state: 'visible' })
  }

  member(username: string): Locator {
    return this.membersDialog.getByTestId(`group-member-${username}`)
  }

  async removeMember(group: string, username: string): Promise<void> {
    await this.member(username).getByRole('button', { name: `Remove ${username} from ${group}` }).click()
    await this.member(username).waitFor({ state: 'detached' })
  }
}
