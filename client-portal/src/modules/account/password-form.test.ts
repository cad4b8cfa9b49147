import { expect } from 'chai'
import { describe, it } from 'mocha'
import { checkPasswordForm, serverPasswordErrors } from './password-form'

describe('password form', () => {
  it('asks for every field and a matching confirmation before sending', () => {
    expect(checkPasswordForm({ currentPassword: '', newPassword: '', confirmPassword: '' })).to.deep.equal({
      currentPassword: 'Enter your current password.',
      newPassword: 'Enter a new password.',
    })
    expect(checkPasswordForm({ currentPassword: 'old-password', newPassword: 'new-password-1', confirmPassword: 'new-password-2' })).to.deep.equal({
      confirmPassword: 'The two new passwords do not match.',
    })
    expect(checkPasswordForm({ currentPassword: 'same-password', newPassword: 'same-password', confirmPassword: 'same-password' }).newPassword).to.match(/differ/)
    expect(checkPasswordForm({ currentPassword: 'old-password', newPassword: 'new-password', confirmPassword: 'new-password' })).to.deep.equal({})
  })

  it("puts the server's refusals under the field they name", () => {
    const gql = (message: string, field?: string) => ({ message, graphQLErrors: [{ message, extensions: { code: 'BAD_USER_INPUT', ...(field ? { details: { field } } : {}) } }] })
    expect(serverPasswordErrors(gql('The current password is not correct', 'currentPassword'))).to.deep.equal({ currentPassword: 'The current password is not correct' })
    expect(serverPasswordErrors(gql('The password must be at least 8 characters long', 'password'))).to.deep.equal({ newPassword: 'The password must be at least 8 characters long' })
    expect(serverPasswordErrors(gql('This account signs in through single sign-on and has no password here'))).to.deep.equal({
      form: 'This account signs in through single sign-on and has no password here',
    })
    expect(serverPasswordErrors(new Error('Failed to fetch')).form).to.match(/could not be changed: Failed to fetch/)
  })
})
