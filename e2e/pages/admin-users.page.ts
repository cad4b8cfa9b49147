import type { Locator, Page } from 'playwright-core'

/** The users section: the table and the "Create user" dialog. */
export class AdminUsersPage {
  readonly table: Locator
  readonly message: Locator

  constructor(readonly page: Page) {
    this.table = page.getByTestId('users-table')
    this.message = page.getByTestId('users-message')
  }

  async createUser(username: string, password: string, role: 'user' | 'admin' = 'user'): Promise<void> {
    await this.page.getByTestId('create-user').click()
    await this.page.getByTestId('new-username').locator('input').fill(username)
    await this.page.getByTestId('new-password').locator('input').fill(password)
    if (role !== 'user') {
      await this.page.getByTestId('new-role').click()
      await this.page.locator('.v-overlay--active .v-list-item').filter({ hasText: role }).first().click()
    }
    await this.page.getByTestId('new-user-submit').click()
  }

  row(username: string): Locator {
    return this.table.locator('tbody tr').filter({ hasText: username })
  }
}
