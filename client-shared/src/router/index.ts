export { createClientRouter } from './client-router'
export type { ClientRouterOptions } from './client-router'
