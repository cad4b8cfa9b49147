export { startClientApp } from './start-client-app'
export type { ClientAppOptions } from './start-client-app'
