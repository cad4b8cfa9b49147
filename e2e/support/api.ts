/** Plain HTTP calls to the server under test, for arranging data a test needs (users, templates). */

export interface ApiSession {
  accessToken: string
  headers: Record<string, string>
}

export async function signInApi(origin: string, username: string, password: string): Promise<ApiSession> {
  const response = await fetch(`${origin}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  const body = (await response.json()) as { accessToken?: string; message?: string }
  if (!response.ok || !body.accessToken) throw new Error(`sign-in of ${username} failed: ${response.status} ${body.message ?? ''}`)
  return { accessToken: body.accessToken, headers: { authorization: `Bearer ${body.accessToken}` } }
}

/** Runs one GraphQL operation and returns `data`; throws with the errors otherwise. */
export async function graphql<T>(origin: string, session: ApiSession | null, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(session?.headers ?? {}) },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] }
  if (body.errors?.length || !body.data) throw new Error(`GraphQL failed (${response.status}): ${JSON.stringify(body.errors)}`)
  return body.data
}

export async function createUser(origin: string, admin: ApiSession, username: string, password: string): Promise<string> {
  const data = await graphql<{ createUser: { id: string } }>(
    origin,
    admin,
    'mutation E2eCreateUser($input: CreateUserInput!) { createUser(input: $input) { id } }',
    { input: { username, password, role: 'user' } },
  )
  return data.createUser.id
}

export interface TemplateSeed {
  name: string
  displayName: string
  description: string
  category: string
  appType: 'webapp' | 'desktop' | 'hybrid'
  tags?: string[]
}

export async function createTemplate(origin: string, admin: ApiSession, seed: TemplateSeed): Promise<void> {
  const ports = seed.appType === 'webapp' ? { webappPort: 8080 } : seed.appType === 'desktop' ? { vncPort: 5900 } : { webappPort: 8080, vncPort: 5900 }
  await graphql(origin, admin, 'mutation E2eCreateTemplate($input: CreateTemplateInput!) { createTemplate(input: $input) { name } }', {
    input: {
      name: seed.name,
      displayName: seed.displayName,
      description: seed.description,
      category: seed.category,
      appType: seed.appType,
      tags: seed.tags ?? [],
      baseImage: `registry.example.test/streamspace/${seed.name}:1.0`,
      ...ports,
    },
  })
}
