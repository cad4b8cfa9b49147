import { expect } from 'chai'
import { launchBrowser, saveScreenshot } from '../support/browser'
import type { BrowserSession } from '../support/browser'
import { startServer, stopCleanly } from '../support/server'
import type { RunningServer } from '../support/server'
import { GraphiqlPage } from '../pages/graphiql.page'
import { signInApi } from '../support/api'

const IDE_TITLE = 'StreamSpace GraphQL IDE'
const ADMIN_PASSWORD = 'e2e-ide-admin-password'

/** The running test's full title, which names its artifacts folder. */
function currentTestName(context: Mocha.Context): string {
  return context.test?.fullTitle() ?? 'unnamed'
}

async function postQuery(origin: string, query: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query }),
  })
  return { status: response.status, body: (await response.json()) as unknown }
}

async function getAsBrowser(url: string): Promise<{ status: number; contentType: string; body: string }> {
  const response = await fetch(url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() }
}

describe('GraphQL IDE', function () {
  let server: RunningServer
  let browser: BrowserSession
  let ide: GraphiqlPage

  before(async function () {
    server = await startServer({ name: 'graphql-ide-server', env: { STREAMSPACE_ADMIN_PASSWORD: ADMIN_PASSWORD } })
    browser = await launchBrowser()
    ide = new GraphiqlPage(browser.page)
  })

  after(async function () {
    await browser?.close()
    await stopCleanly(server)
  })

  it('opens at GET /graphql in a browser with the operation editor', async function () {
    const testName = currentTestName(this)
    await ide.open(server.origin)
    expect(await browser.page.title()).to.equal(IDE_TITLE)
    expect(await ide.editorText()).to.contain('version')
    await saveScreenshot(browser.page, testName, '01-editor')
  })

  it('shows the schema docs: the Query type and its version field', async function () {
    const testName = currentTestName(this)
    await ide.openDocs()
    await saveScreenshot(browser.page, testName, '01-docs-root')
    await ide.openDocsType('Query')
    expect(await ide.docsTitle()).to.equal('Query')
    expect(await ide.docsFieldNames()).to.include('version')
    await saveScreenshot(browser.page, testName, '02-docs-query-type')
  })

  it('runs a query and shows the result', async function () {
    const testName = currentTestName(this)
    const api = await postQuery(server.origin, '{ version { version } }')
    expect(api.status).to.equal(200)
    const expected = (api.body as { data: { version: { version: string } } }).data.version.version
    expect(expected).to.be.a('string').and.not.be.empty

    await ide.setOperation('{ version { version } }')
    await saveScreenshot(browser.page, testName, '01-operation')
    await ide.execute()
    const result = await ide.waitForResult()
    expect(result).to.deep.equal({ data: { version: { version: expected } } })
    await saveScreenshot(browser.page, testName, '02-result')
  })

  it('sends the Authorization header set in the headers editor, and the server signs the caller in', async function () {
    const testName = currentTestName(this)
    const admin = await signInApi(server.origin, 'admin', ADMIN_PASSWORD)
    await ide.setOperation('{ me { username role } }')
    await ide.setHeaders(`{ "Authorization": "Bearer ${admin.accessToken}" }`)
    await saveScreenshot(browser.page, testName, '01-headers')
    const sent = browser.page.waitForRequest(
      (request) =>
        request.method() === 'POST' &&
        new URL(request.url()).pathname === '/graphql' &&
        !(request.postData() ?? '').includes('IntrospectionQuery'),
    )
    await ide.execute()
    expect(await (await sent).headerValue('authorization')).to.equal(`Bearer ${admin.accessToken}`)
    expect(await ide.waitForResult()).to.deep.equal({ data: { me: { username: 'admin', role: 'admin' } } })
    await saveScreenshot(browser.page, testName, '02-result')
  })

  it('made every request to the server itself, none to an external host', function () {
    expect(browser.requests.urls, 'requests recorded').to.not.be.empty
    expect(browser.requests.urls.some((url) => url.includes('/graphql-ide/assets/'))).to.equal(true)
    expect(browser.requests.externalTo(server.origin)).to.deep.equal([])
  })
})

describe('GraphQL IDE switched off (STREAMSPACE_GRAPHQL_IDE=false)', function () {
  let server: RunningServer

  before(async function () {
    server = await startServer({ name: 'graphql-ide-off-server', env: { STREAMSPACE_GRAPHQL_IDE: 'false' } })
  })

  after(async function () {
    if (server) await server.stop()
  })

  it('does not serve the IDE for GET /graphql from a browser', async function () {
    const page = await getAsBrowser(`${server.origin}/graphql`)
    const servesIde = page.status === 200 && page.body.includes(IDE_TITLE)
    expect(servesIde, `GET /graphql answered ${page.status} ${page.contentType}`).to.equal(false)
    expect(page.status).to.equal(404)
  })

  it('does not serve the IDE bundle at /graphql-ide/', async function () {
    const page = await getAsBrowser(`${server.origin}/graphql-ide/`)
    expect(page.status === 200 && page.body.includes(IDE_TITLE), `GET /graphql-ide/ answered ${page.status}`).to.equal(false)
  })

  it('still answers GraphQL over HTTP', async function () {
    const api = await postQuery(server.origin, '{ version { version } }')
    expect(api.status).to.equal(200)
    expect(api.body).to.have.nested.property('data.version.version').that.is.a('string')
  })
})
