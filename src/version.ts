/** Reported by /xrpc/_health. */
export const VERSION = '0.1.0'
