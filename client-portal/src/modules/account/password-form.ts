/** The fields of the password form, and what to say under each. */
export interface PasswordFields {
  currentPassword: string
  newPassword: string
  confirmPassword: string
}
export type PasswordErrors = Partial<Record<keyof PasswordFields | 'form', string>>

/** What the form can tell before asking the server; the server's own policy (length) comes back per field. */
export function checkPasswordForm(fields: PasswordFields): PasswordErrors {
  const errors: PasswordErrors = {}
  if (!fields.currentPassword) errors.currentPassword = 'Enter your current password.'
  if (!fields.newPassword) errors.newPassword = 'Enter a new password.'
  else if (fields.newPassword === fields.currentPassword) errors.newPassword = 'The new password must differ from the current one.'
  if (fields.newPassword && fields.confirmPassword !== fields.newPassword) errors.confirmPassword = 'The two new passwords do not match.'
  return errors
}

interface GraphQLErrorLike {
  message: string
  extensions?: { code?: unknown; details?: { field?: unknown } }
}

/**
 * The server's refusal, under the field it names: `currentPassword` (wrong password) or `password` (the policy, shown
 * under the new password); anything else is a message for the whole form.
 */
export function serverPasswordErrors(error: unknown): PasswordErrors {
  const err = error as { message?: string; graphQLErrors?: readonly GraphQLErrorLike[] }
  const first = err.graphQLErrors?.[0]
  if (!first) return { form: `The password could not be changed: ${err.message ?? String(error)}` }
  const field = first.extensions?.details?.field
  if (field === 'currentPassword') return { currentPassword: first.message }
  if (field === 'password' || field === 'newPassword') return { newPassword: first.message }
  return { form: first.message }
}
