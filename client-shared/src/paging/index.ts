export { useCursorPages, usePageItems } from './use-cursor-pages'
export type { CursorPages } from './use-cursor-pages'
