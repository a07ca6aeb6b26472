import { query } from '../method'

export default query('com.atproto.server.describeServer', {}, async ({ config }) => {
  return {
    json: {
      did: config.did,
      availableUserDomains: [],
      inviteCodeRequired: true,
      phoneVerificationRequired: false,
      links: {},
      contact: {},
    },
  }
})
