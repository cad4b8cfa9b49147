import type { Locator, Page } from 'playwright-core'

/** The users section: the table and its dialogs (create, edit, reset password, delete). */
export class AdminUsersPage {
  readonly table: Locator
  readonly message: Locator

  constructor(readonly page: Page) {
    this.table = page.getByTestId('users-table')
    this.message = page.getByTestId('users-message')
  }

  async createUser(username: string, password: string, role: 'user' | 'operator' | 'auditor' | 'admin' = 'user'): Promise<void> {
    await this.page.getByTestId('create-user').click()
    await this.page.getByTestId('new-username').locator('input').fill(username)
    await this.page.getByTestId('new-password').locator('input').fill(password)
    if (role !== 'user') {
      await this.page.getByTestId('new-role').click()
      await this.page.locator('.v-overlay--active .v-list-item').filter({ hasText: `${role}:` }).first().click()
    }
    await this.page.getByTestId('new-user-submit').click()
  }

  row(username: string): Locator {
    return this.table.locator('tbody tr').filter({ hasText: username })
  }

  /** Opens the edit dialog of a user and fills name, e-mail and role (the role by the start of its list entry). */
  async fillEdit(username: string, changes: { displayName: string; email: string; role: 'user' | 'operator' | 'auditor' | 'admin' }): Promise<void> {
    await this.page.getByTestId(`edit-${username}`).click()
    await this.page.getByTestId('edit-display-name').locator('input').fill(changes.displayName)
    await this.page.getByTestId('edit-email').locator('input').fill(changes.email)
    await this.page.getByTestId('edit-role').click()
    await this.page.locator('.v-overlay--active .v-list-item').filter({ hasText: `${changes.role}:` }).first().click()
  }

  async saveEdit(): Promise<void> {
    await this.page.getByTestId('edit-submit').click()
  }

  /** Resets a user's password to a generated one and returns it, as the dialog shows it (once). */
  async resetToGenerated(username: string): Promise<{ password: string; field: Locator }> {
    await this.page.getByTestId(`reset-${username}`).click()
    await this.page.getByTestId('reset-submit').click()
    const field = this.page.getByTestId('generated-password').locator('input')
    await field.waitFor({ state: 'visible' })
    return { password: await field.inputValue(), field }
  }

  async closeReset(): Promise<void> {
    await this.page.getByTestId('reset-done').click()
  }

  /** Opens the delete dialog of a user; returns what it says will happen. */
  async openDelete(username: string): Promise<string> {
    await this.page.getByTestId(`delete-${username}`).click()
    return this.page.getByTestId('delete-consequences').innerText()
  }

  deleteButton(): Locator {
    return this.page.getByTestId('delete-submit')
  }

  async chooseHomes(choice: 'keep' | 'delete'): Promise<void> {
    await this.page.getByTestId(`homes-${choice}`).locator('input').check()
  }
}
