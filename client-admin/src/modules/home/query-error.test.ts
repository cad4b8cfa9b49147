import { expect } from 'chai'
import { describe, it } from 'mocha'
import { unavailableReason } from './query-error'

describe('unavailableReason', () => {
  it('is null without an error', () => {
    expect(unavailableReason(null)).to.equal(null)
    expect(unavailableReason(undefined)).to.equal(null)
  })

  it("gives the server's messages once each, without Apollo's framing", () => {
    const noCluster = 'No Kubernetes cluster is configured (STREAMSPACE_CLUSTER=none); sessions and templates are unavailable'
    const error = {
      message: `GraphQL response contains errors: ${noCluster}`,
      graphQLErrors: [
        { message: noCluster, extensions: { code: 'SERVICE_UNAVAILABLE' } },
        { message: noCluster, extensions: { code: 'SERVICE_UNAVAILABLE' } },
      ],
    }
    expect(unavailableReason(error)).to.equal(noCluster)
  })

  it('says the API could not be reached for a network error', () => {
    expect(unavailableReason({ message: 'Failed to fetch', graphQLErrors: [], networkError: new TypeError('Failed to fetch') })).to.equal('The API could not be reached.')
  })

  it('falls back to the message, stripped of the framing', () => {
    expect(unavailableReason({ message: 'GraphQL response contains errors: boom' })).to.equal('boom')
    expect(unavailableReason({ message: '' })).to.equal('The server did not answer this part.')
  })
})
