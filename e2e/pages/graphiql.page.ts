import type { Locator, Page } from 'playwright-core'
import { waitFor } from '../support/wait'

/** Monaco renders spaces as non-breaking spaces; compare text in its plain form. */
function plainText(text: string): string {
  return text.replace(/\u00a0/g, ' ')
}

/** The title GraphiQL gives a tab: the operation's name, or "<untitled>" for an anonymous one. */
function tabTitleFor(source: string): string {
  return /^(?!#).*(?:query|subscription|mutation)\s+(\w+)/m.exec(source)?.[1] ?? '<untitled>'
}

/** The GraphQL IDE (GraphiQL 5) that the server returns for `GET /graphql` from a browser. */
export class GraphiqlPage {
  readonly queryEditor: Locator
  readonly response: Locator
  readonly docExplorer: Locator
  readonly docsButton: Locator
  readonly executeButton: Locator
  readonly activeTab: Locator
  readonly headersTabButton: Locator
  readonly headersEditor: Locator

  constructor(readonly page: Page) {
    this.queryEditor = page.locator('.graphiql-query-editor .monaco-editor')
    this.response = page.locator('.graphiql-response .monaco-editor')
    this.docExplorer = page.locator('.graphiql-doc-explorer')
    this.docsButton = page.getByRole('button', { name: 'Show Documentation Explorer' })
    this.executeButton = page.locator('button.graphiql-execute-button')
    this.activeTab = page.locator('.graphiql-tab-active .graphiql-tab-button')
    this.headersTabButton = page.locator('.graphiql-editor-tools button[data-name="headers"]')
    this.headersEditor = page.locator('section.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor')
  }

  /** Opens the IDE the way a person does: the API endpoint itself, in a browser. */
  async open(origin: string): Promise<void> {
    await this.page.goto(`${origin}/graphql`)
    await this.queryEditor.waitFor({ state: 'visible' })
    // The editor is usable once Monaco has rendered the first line of the default operation.
    await waitFor('the operation editor to show text', async () =>
      (await this.editorText()).trim().length > 0 ? true : undefined,
    )
  }

  async editorText(): Promise<string> {
    return plainText(await this.queryEditor.locator('.view-lines').innerText())
  }

  async openDocs(): Promise<void> {
    await this.docsButton.click()
    await this.docExplorer.waitFor({ state: 'visible' })
  }

  /** Follows a type link in the docs explorer (e.g. the root `Query`) and waits for its page. */
  async openDocsType(typeName: string): Promise<void> {
    await this.docExplorer.locator('a.graphiql-doc-explorer-type-name', { hasText: typeName }).first().click()
    await waitFor(`the docs explorer to show ${typeName}`, async () =>
      (await this.docsTitle()) === typeName ? true : undefined,
    )
  }

  async docsTitle(): Promise<string> {
    return (await this.docExplorer.locator('.graphiql-doc-explorer-title').innerText()).trim()
  }

  /** Field names listed on the current docs page. */
  async docsFieldNames(): Promise<string[]> {
    return (await this.docExplorer.locator('.graphiql-doc-explorer-field-name').allInnerTexts()).map((name) => name.trim())
  }

  /**
   * Replaces the operation. insertText avoids Monaco's bracket auto-closing that typing would trigger.
   * GraphiQL re-reads the operation name 100 ms after an edit; running earlier would send the old
   * name, so this waits until the tab title shows the new one.
   */
  async setOperation(source: string): Promise<void> {
    await this.replaceText(this.queryEditor, source)
    await waitFor('the operation editor to hold the new operation', async () =>
      (await this.editorText()).replace(/\s+/g, ' ').trim() === source.replace(/\s+/g, ' ').trim() ? true : undefined,
    )
    const title = tabTitleFor(source)
    await waitFor(`the tab title to become ${title}`, async () =>
      (await this.activeTab.innerText()).trim() === title ? true : undefined,
    )
  }

  /** Opens the Headers tab under the operation editor and replaces its JSON. */
  async setHeaders(json: string): Promise<void> {
    await this.headersTabButton.click()
    await this.page.locator('section.graphiql-editor-tool[aria-label="Headers"]').waitFor({ state: 'visible' })
    await this.replaceText(this.headersEditor, json)
  }

  private async replaceText(editor: Locator, text: string): Promise<void> {
    await editor.locator('.view-lines').click()
    await this.page.keyboard.press('ControlOrMeta+A')
    await this.page.keyboard.press('Delete')
    await this.page.keyboard.insertText(text)
  }

  async execute(): Promise<void> {
    await this.executeButton.click()
  }

  async responseText(): Promise<string> {
    return plainText(await this.response.locator('.view-lines').innerText()).trim()
  }

  /** Waits for the response editor to show a JSON result and returns it parsed (fits short results, which Monaco does not wrap). */
  async waitForResult(): Promise<unknown> {
    let seen = ''
    try {
      return await waitFor('a JSON result in the response editor', async () => {
        seen = await this.responseText()
        return seen.startsWith('{') ? (JSON.parse(seen) as unknown) : undefined
      })
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; the response editor showed: ${seen}`, { cause: error })
    }
  }
}
